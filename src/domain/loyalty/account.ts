/**
 * The read side of loyalty the customer sees: balance, tier, what the next tier needs,
 * recent transactions and points that expire soon. The rules that write the ledger live
 * beside this file (issue 4); this module only reads.
 */
import { DomainError } from '../../errors.js';
import type { Config } from '../../config/index.js';
import type { Clock } from '../../infra/clock.js';
import type { PrismaClient } from '../../infra/prisma.js';
import type { LoyaltyKind } from '../../generated/prisma/enums.js';

export interface TierDto {
  code: string;
  name: string;
  nameEn: string | null;
  minSpend: string;
  accrualPercent: string;
}

export interface LoyaltyAccountDto {
  balance: number;
  lifetimeSpend: string;
  tier: TierDto | null;
  nextTier: (TierDto & { spendNeeded: string }) | null;
  recent: Array<{ kind: LoyaltyKind; points: number; reason: string | null; createdAt: string }>;
  expiringSoon: { points: number; firstExpiresAt: string } | null;
}

export const RECENT_TRANSACTIONS = 5;

export function createLoyaltyAccountService(deps: { prisma: PrismaClient; clock: Clock; config: Pick<Config, 'loyalty'> }) {
  const { prisma, clock, config } = deps;

  /** Tiers from the database when the shop configured them there, else from config. */
  async function tiers(): Promise<TierDto[]> {
    const rows = await prisma.loyaltyTier.findMany({ orderBy: [{ minSpend: 'asc' }, { sortOrder: 'asc' }] });
    if (rows.length > 0) {
      return rows.map((t) => ({ code: t.code, name: t.name, nameEn: t.nameEn, minSpend: t.minSpend.toFixed(2), accrualPercent: t.accrualPercent.toFixed(2) }));
    }
    return config.loyalty.tiers.map((t) => ({ code: t.code, name: t.name, nameEn: t.nameEn, minSpend: t.minSpend.toFixed(2), accrualPercent: t.accrualPercent.toFixed(2) }));
  }

  return {
    async get(customerId: string): Promise<LoyaltyAccountDto> {
      const customer = await prisma.customer.findUnique({ where: { id: customerId }, select: { pointsBalance: true, lifetimeSpend: true, loyaltyTierCode: true } });
      if (!customer) throw new DomainError('not_found', 'Customer not found');
      const all = await tiers();
      const spend = Number(customer.lifetimeSpend);
      // The stored tier wins (the rules may hold a tier for a grace period); else derive it from spend.
      const tier = all.find((t) => t.code === customer.loyaltyTierCode) ?? [...all].reverse().find((t) => Number(t.minSpend) <= spend) ?? null;
      const next = all.find((t) => Number(t.minSpend) > Math.max(spend, tier ? Number(tier.minSpend) : -1));
      const now = clock.now();
      const horizon = new Date(now.getTime() + config.loyalty.expiryWarningDays * 86_400_000);
      const [recent, expiring] = await Promise.all([
        prisma.loyaltyTransaction.findMany({ where: { customerId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: RECENT_TRANSACTIONS }),
        prisma.loyaltyTransaction.findMany({
          where: { customerId, remaining: { gt: 0 }, expiresAt: { gt: now, lte: horizon } },
          orderBy: { expiresAt: 'asc' },
          select: { remaining: true, expiresAt: true },
        }),
      ]);
      const expiringPoints = expiring.reduce((s, t) => s + t.remaining, 0);
      return {
        balance: customer.pointsBalance,
        lifetimeSpend: customer.lifetimeSpend.toFixed(2),
        tier,
        nextTier: next ? { ...next, spendNeeded: Math.max(0, Number(next.minSpend) - spend).toFixed(2) } : null,
        recent: recent.map((t) => ({ kind: t.kind, points: t.points, reason: t.reason, createdAt: t.createdAt.toISOString() })),
        expiringSoon: expiringPoints > 0 ? { points: expiringPoints, firstExpiresAt: expiring[0]!.expiresAt!.toISOString() } : null,
      };
    },
  };
}

export type LoyaltyAccountService = ReturnType<typeof createLoyaltyAccountService>;
