/**
 * The points ledger: every change of a customer's points is a LoyaltyTransaction row, and
 * Customer.pointsBalance is their sum, updated in the same transaction under a row lock on
 * the customer. Credits carry `remaining` and `expiresAt`; debits and expiry consume them
 * FIFO (rules.ts). Every write is idempotent by `externalId` (the shop's event id, or a rule
 * key like "accrual:<orderId>"), so replays and re-runs never count twice.
 */
import { DomainError } from '../../errors.js';
import type { Prisma, PrismaClient } from '../../generated/prisma/client.js';
import type { Clock } from '../../infra/clock.js';
import { notifyCustomer, type PendingNotification } from '../../notifications/producer.js';
import { accrualBase, accrualPoints, allocateDebit, expiryDate, nextTier, roundMoney, sortTiers, tierForSpend, type TierRule } from './rules.js';

type Tx = Prisma.TransactionClient;

export interface LoyaltySettings {
  pointsTtlDays: number;
  expiryWarningDays: number;
  tiers: TierRule[];
}

export interface LedgerDeps {
  settings: LoyaltySettings;
  clock: Clock;
}

export interface LoyaltyBalance {
  customerId: string;
  balance: number;
  lifetimeSpend: number;
  tier: { code: string; name: string; nameEn: string; accrualPercent: number } | null;
  nextTier: { code: string; name: string; nameEn: string; spendNeeded: number } | null;
  /** Points that expire within the warning window, and the earliest such date. */
  expiringSoon: { points: number; earliestAt: string | null };
}

export interface ShopPointsChange {
  customerId: string;
  /** redemption: points spent at checkout (positive number); adjustment: signed. */
  kind: 'redemption' | 'adjustment';
  points: number;
  reason?: string | null;
  orderId?: string | null;
  /** The shop's event id: a replay returns the first result. */
  externalId: string;
}

export type LoyaltyLedger = ReturnType<typeof createLoyaltyLedger>;

/** Takes the customer's row lock: ledger writes for one customer run one at a time. */
async function lockCustomer(tx: Tx, customerId: string): Promise<{ pointsBalance: number; lifetimeSpend: number; loyaltyTierCode: string | null }> {
  const rows = await tx.$queryRaw<Array<{ pointsBalance: number; lifetimeSpend: string; loyaltyTierCode: string | null }>>`
    SELECT "pointsBalance", "lifetimeSpend"::text AS "lifetimeSpend", "loyaltyTierCode" FROM customers WHERE id = ${customerId}::uuid FOR UPDATE`;
  const row = rows[0];
  if (!row) throw new DomainError('not_found', 'Customer not found');
  return { pointsBalance: row.pointsBalance, lifetimeSpend: Number(row.lifetimeSpend), loyaltyTierCode: row.loyaltyTierCode };
}

export function createLoyaltyLedger(deps: LedgerDeps) {
  const tiers = sortTiers(deps.settings.tiers);
  const tierByCode = new Map(tiers.map((t) => [t.code, t]));

  /** Consumes `points` from open credits FIFO and writes the debit row. */
  async function debit(tx: Tx, customerId: string, points: number, data: Omit<Prisma.LoyaltyTransactionUncheckedCreateInput, 'customerId' | 'points' | 'remaining'>) {
    const credits = await tx.loyaltyTransaction.findMany({
      where: { customerId, remaining: { gt: 0 } },
      select: { id: true, remaining: true, expiresAt: true, createdAt: true },
    });
    for (const { id, take } of allocateDebit(credits, points)) {
      await tx.loyaltyTransaction.update({ where: { id }, data: { remaining: { decrement: take } } });
    }
    const row = await tx.loyaltyTransaction.create({ data: { ...data, customerId, points: -points, remaining: 0 } });
    await tx.customer.update({ where: { id: customerId }, data: { pointsBalance: { decrement: points } } });
    return row;
  }

  async function credit(tx: Tx, customerId: string, points: number, data: Omit<Prisma.LoyaltyTransactionUncheckedCreateInput, 'customerId' | 'points' | 'remaining' | 'expiresAt'>) {
    const now = deps.clock.now();
    const row = await tx.loyaltyTransaction.create({
      data: { ...data, customerId, points, remaining: points, createdAt: now, expiresAt: expiryDate(now, deps.settings.pointsTtlDays) },
    });
    await tx.customer.update({ where: { id: customerId }, data: { pointsBalance: { increment: points } } });
    return row;
  }

  async function setSpend(tx: Tx, customerId: string, lifetimeSpend: number) {
    const tier = tierForSpend(tiers, lifetimeSpend);
    await tx.customer.update({ where: { id: customerId }, data: { lifetimeSpend: roundMoney(lifetimeSpend), loyaltyTierCode: tier?.code ?? null } });
  }

  return {
    tiers,

    /** Makes the LoyaltyTier rows match the configuration (run at start). */
    async syncTiers(prisma: PrismaClient): Promise<void> {
      await prisma.$transaction(async (tx) => {
        for (const [index, tier] of tiers.entries()) {
          const data = { name: tier.name, nameEn: tier.nameEn, minSpend: tier.minSpend, accrualPercent: tier.accrualPercent, sortOrder: index };
          await tx.loyaltyTier.upsert({ where: { code: tier.code }, create: { code: tier.code, ...data }, update: data });
        }
        await tx.loyaltyTier.deleteMany({ where: { code: { notIn: tiers.map((t) => t.code) } } });
      });
    },

    /**
     * A delivered order earns points at the customer's tier before this order, and its
     * amount joins the lifetime spend (which may move the customer up a tier). Exactly once
     * per order: guarded by Order.pointsAccruedAt under the customer's lock.
     */
    async accrueDeliveredOrder(tx: Tx, orderId: string): Promise<{ points: number; transactionId: string | null; notifications: PendingNotification[] } | null> {
      const order = await tx.order.findUnique({ where: { id: orderId }, select: { customerId: true, total: true, deliveryCost: true } });
      if (!order) return null;
      const customer = await lockCustomer(tx, order.customerId);
      const fresh = await tx.order.updateMany({ where: { id: orderId, pointsAccruedAt: null }, data: { pointsAccruedAt: deps.clock.now() } });
      if (fresh.count === 0) return null;
      const base = accrualBase({ total: Number(order.total), deliveryCost: Number(order.deliveryCost) });
      const tier = (customer.loyaltyTierCode && tierByCode.get(customer.loyaltyTierCode)) || tierForSpend(tiers, customer.lifetimeSpend);
      const points = accrualPoints(base, tier?.accrualPercent ?? 0);
      let transactionId: string | null = null;
      let notifications: PendingNotification[] = [];
      if (points > 0) {
        const row = await credit(tx, order.customerId, points, { kind: 'accrual', orderId, externalId: `accrual:${orderId}`, reason: tier ? `tier ${tier.code} ${tier.accrualPercent}%` : null });
        transactionId = row.id;
        notifications = await notifyCustomer(tx, { customerId: order.customerId, kind: 'points-credited', cause: row.id, payload: { transactionId: row.id, points, orderId } });
      }
      await setSpend(tx, order.customerId, customer.lifetimeSpend + base);
      return { points, transactionId, notifications };
    },

    /**
     * A delivered order came back (returned, or cancelled after delivery): take back its
     * spend and as many of its points as the customer still has. Once per order.
     */
    async reverseOrder(tx: Tx, orderId: string): Promise<{ points: number } | null> {
      const order = await tx.order.findUnique({ where: { id: orderId }, select: { customerId: true, total: true, deliveryCost: true, pointsAccruedAt: true } });
      if (!order?.pointsAccruedAt) return null;
      const customer = await lockCustomer(tx, order.customerId);
      const existing = await tx.loyaltyTransaction.findUnique({ where: { externalId: `reversal:${orderId}` } });
      if (existing) return null;
      const accrued = await tx.loyaltyTransaction.findUnique({ where: { externalId: `accrual:${orderId}` }, select: { points: true } });
      const points = Math.min(accrued?.points ?? 0, customer.pointsBalance);
      if (points > 0) await debit(tx, order.customerId, points, { kind: 'reversal', orderId, externalId: `reversal:${orderId}`, reason: 'order returned' });
      const base = accrualBase({ total: Number(order.total), deliveryCost: Number(order.deliveryCost) });
      await setSpend(tx, order.customerId, Math.max(0, customer.lifetimeSpend - base));
      return { points };
    },

    /**
     * A redemption or adjustment from the shop. Debits never take the balance below zero
     * (conflict). Replays with the same externalId return the first transaction.
     */
    async applyShopChange(tx: Tx, change: ShopPointsChange): Promise<{ transactionId: string; points: number; balance: number; duplicate: boolean }> {
      await lockCustomer(tx, change.customerId);
      const existing = await tx.loyaltyTransaction.findUnique({ where: { externalId: change.externalId } });
      if (existing) {
        const c = await tx.customer.findUniqueOrThrow({ where: { id: change.customerId }, select: { pointsBalance: true } });
        return { transactionId: existing.id, points: existing.points, balance: c.pointsBalance, duplicate: true };
      }
      const signed = change.kind === 'redemption' ? -Math.abs(change.points) : change.points;
      if (signed === 0) throw new DomainError('invalid_input', 'points must not be zero', { field: 'points' });
      const balanceBefore = (await tx.customer.findUniqueOrThrow({ where: { id: change.customerId }, select: { pointsBalance: true } })).pointsBalance;
      const common = { kind: change.kind, orderId: change.orderId ?? null, reason: change.reason ?? null, externalId: change.externalId };
      let row;
      if (signed < 0) {
        if (balanceBefore < -signed) throw new DomainError('conflict', 'Not enough points', { balance: balanceBefore, requested: -signed });
        row = await debit(tx, change.customerId, -signed, common);
      } else {
        row = await credit(tx, change.customerId, signed, common);
      }
      return { transactionId: row.id, points: signed, balance: balanceBefore + signed, duplicate: false };
    },

    /** Balance, tier and what the next tier needs, for the shop's checkout and the bot. */
    async balance(prisma: PrismaClient | Tx, customerId: string): Promise<LoyaltyBalance> {
      const customer = await prisma.customer.findUnique({ where: { id: customerId }, select: { pointsBalance: true, lifetimeSpend: true, loyaltyTierCode: true } });
      if (!customer) throw new DomainError('not_found', 'Customer not found');
      const spend = Number(customer.lifetimeSpend);
      const tier = (customer.loyaltyTierCode && tierByCode.get(customer.loyaltyTierCode)) || tierForSpend(tiers, spend);
      const next = nextTier(tiers, spend);
      const horizon = new Date(deps.clock.now().getTime() + deps.settings.expiryWarningDays * 24 * 3600 * 1000);
      const expiring = await prisma.loyaltyTransaction.aggregate({
        where: { customerId, remaining: { gt: 0 }, expiresAt: { lte: horizon } },
        _sum: { remaining: true },
        _min: { expiresAt: true },
      });
      return {
        customerId,
        balance: customer.pointsBalance,
        lifetimeSpend: spend,
        tier: tier ? { code: tier.code, name: tier.name, nameEn: tier.nameEn, accrualPercent: tier.accrualPercent } : null,
        nextTier: next ? { code: next.tier.code, name: next.tier.name, nameEn: next.tier.nameEn, spendNeeded: next.spendNeeded } : null,
        expiringSoon: { points: expiring._sum.remaining ?? 0, earliestAt: expiring._min.expiresAt?.toISOString() ?? null },
      };
    },

    /**
     * Expires credits whose time has come (what is left of each becomes an expiry debit),
     * one customer per transaction. Idempotent: "expiry:<creditId>".
     */
    async expireDue(prisma: PrismaClient, limit = 500): Promise<{ expiredPoints: number; credits: number }> {
      const now = deps.clock.now();
      const due = await prisma.loyaltyTransaction.findMany({
        where: { remaining: { gt: 0 }, expiresAt: { lte: now } },
        select: { id: true, customerId: true },
        orderBy: { expiresAt: 'asc' },
        take: limit,
      });
      let expiredPoints = 0;
      let count = 0;
      for (const { id, customerId } of due) {
        await prisma.$transaction(async (tx) => {
          await lockCustomer(tx, customerId);
          const creditRow = await tx.loyaltyTransaction.findUniqueOrThrow({ where: { id }, select: { remaining: true } });
          if (creditRow.remaining <= 0) return;
          await tx.loyaltyTransaction.update({ where: { id }, data: { remaining: 0 } });
          await tx.loyaltyTransaction.create({ data: { customerId, kind: 'expiry', points: -creditRow.remaining, externalId: `expiry:${id}`, reason: 'points expired' } });
          await tx.customer.update({ where: { id: customerId }, data: { pointsBalance: { decrement: creditRow.remaining } } });
          expiredPoints += creditRow.remaining;
          count += 1;
        });
      }
      return { expiredPoints, credits: count };
    },

    /**
     * Warns customers whose points expire within the warning window: one notification per
     * customer per run covering all their credits not yet warned about.
     */
    async warnExpiring(prisma: PrismaClient, limit = 500): Promise<PendingNotification[]> {
      const now = deps.clock.now();
      const horizon = new Date(now.getTime() + deps.settings.expiryWarningDays * 24 * 3600 * 1000);
      const credits = await prisma.loyaltyTransaction.findMany({
        where: { remaining: { gt: 0 }, expiresAt: { gt: now, lte: horizon }, expiryWarnedAt: null },
        select: { id: true, customerId: true, remaining: true, expiresAt: true },
        orderBy: [{ expiresAt: 'asc' }, { id: 'asc' }],
        take: limit,
      });
      const byCustomer = new Map<string, typeof credits>();
      for (const c of credits) byCustomer.set(c.customerId, [...(byCustomer.get(c.customerId) ?? []), c]);
      const pending: PendingNotification[] = [];
      for (const [customerId, list] of byCustomer) {
        const first = list[0]!;
        const points = list.reduce((sum, c) => sum + c.remaining, 0);
        const created = await prisma.$transaction(async (tx) => {
          const marked = await tx.loyaltyTransaction.updateMany({ where: { id: { in: list.map((c) => c.id) }, expiryWarnedAt: null }, data: { expiryWarnedAt: now } });
          if (marked.count === 0) return [];
          return notifyCustomer(tx, { customerId, kind: 'points-expiring', cause: first.id, payload: { points, expiresAt: first.expiresAt!.toISOString() } });
        });
        pending.push(...created);
      }
      return pending;
    },
  };
}
