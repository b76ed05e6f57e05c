/** Loyalty rules on a real database: accrual once per delivered order, tier upgrade, FIFO expiry and warnings. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoyaltyLedger, type LoyaltyLedger } from '../../../src/domain/loyalty/ledger.js';
import { accrualPoints, allocateDebit, tierForSpend } from '../../../src/domain/loyalty/rules.js';
import { fixedClock } from '../../../src/infra/clock.js';
import { createTestContext, type TestContext } from '../../support/context.js';
import { createCustomer, createOrder, createProduct } from '../../support/factories.js';

const clock = fixedClock(new Date('2026-01-01T00:00:00Z'));
const DAY = 24 * 3600 * 1000;
let ctx: TestContext;
let ledger: LoyaltyLedger;

beforeAll(async () => {
  ctx = await createTestContext({ clock, env: { LOYALTY_TIERS: 'base:Базовый:Base:0:3,silver:Серебряный:Silver:20000:5', LOYALTY_POINTS_TTL_DAYS: '30', LOYALTY_EXPIRY_WARNING_DAYS: '7' } });
  ledger = createLoyaltyLedger({ settings: ctx.config.loyalty, clock });
  await ledger.syncTiers(ctx.prisma);
});
afterAll(async () => { await ctx?.close(); });

async function deliveredOrder(customerId: string, amount: number) {
  const product = await createProduct(ctx.prisma);
  const order = await createOrder(ctx.prisma, customerId, { items: [{ product, quantity: 1, price: amount }], deliveryCost: 500 });
  return ctx.prisma.$transaction((tx) => ledger.accrueDeliveredOrder(tx, order.id)).then((r) => ({ order, r }));
}

describe('rules', () => {
  it('computes points, tiers and FIFO allocation', () => {
    expect(accrualPoints(999.99, 3)).toBe(29);
    expect(accrualPoints(100, 7)).toBe(7);
    const tiers = ctx.config.loyalty.tiers;
    expect(tierForSpend(tiers, 19_999.99)?.code).toBe('base');
    expect(tierForSpend(tiers, 20_000)?.code).toBe('silver');
    const d = (n: number) => new Date(Date.UTC(2026, 0, n));
    expect(allocateDebit([{ id: 'late', remaining: 50, expiresAt: d(20), createdAt: d(2) }, { id: 'early', remaining: 30, expiresAt: d(10), createdAt: d(1) }], 40)).toEqual([{ id: 'early', take: 30 }, { id: 'late', take: 10 }]);
    expect(() => allocateDebit([{ id: 'a', remaining: 5, expiresAt: d(1), createdAt: d(1) }], 6)).toThrow(RangeError);
  });
});

describe('ledger', () => {
  it('accrues once per delivered order and upgrades the tier by lifetime spend', async () => {
    const customer = await createCustomer(ctx.prisma);
    const { order, r } = await deliveredOrder(customer.id, 15_000);
    expect(r?.points).toBe(450); // base 3% of goods, delivery excluded
    expect(await ctx.prisma.$transaction((tx) => ledger.accrueDeliveredOrder(tx, order.id))).toBeNull();
    let saved = await ctx.prisma.customer.findUniqueOrThrow({ where: { id: customer.id } });
    expect(saved).toMatchObject({ pointsBalance: 450, loyaltyTierCode: 'base' });
    expect(Number(saved.lifetimeSpend)).toBe(15_000);

    const second = await deliveredOrder(customer.id, 10_000);
    expect(second.r?.points).toBe(300); // still base for this order: the upgrade applies after it
    saved = await ctx.prisma.customer.findUniqueOrThrow({ where: { id: customer.id } });
    expect(saved).toMatchObject({ pointsBalance: 750, loyaltyTierCode: 'silver' });
    const third = await deliveredOrder(customer.id, 1_000);
    expect(third.r?.points).toBe(50); // silver 5%
    expect(await ctx.prisma.loyaltyTransaction.count({ where: { customerId: customer.id, kind: 'accrual' } })).toBe(3);
  });

  it('expires old points FIFO after redemptions consumed the oldest first, and warns before', async () => {
    const customer = await createCustomer(ctx.prisma);
    clock.set(new Date('2026-03-01T00:00:00Z'));
    await ctx.prisma.$transaction((tx) => ledger.applyShopChange(tx, { customerId: customer.id, kind: 'adjustment', points: 100, externalId: 'adj-1' }));
    clock.advance(10 * DAY);
    await ctx.prisma.$transaction((tx) => ledger.applyShopChange(tx, { customerId: customer.id, kind: 'adjustment', points: 200, externalId: 'adj-2' }));
    await ctx.prisma.$transaction((tx) => ledger.applyShopChange(tx, { customerId: customer.id, kind: 'redemption', points: 60, externalId: 'red-1' }));
    // A replay of the redemption changes nothing.
    expect((await ctx.prisma.$transaction((tx) => ledger.applyShopChange(tx, { customerId: customer.id, kind: 'redemption', points: 60, externalId: 'red-1' }))).duplicate).toBe(true);

    await ctx.prisma.channelIdentity.create({ data: { platform: 'telegram', externalId: `w-${customer.id}`, chatId: '1', customerId: customer.id } });
    clock.set(new Date('2026-03-25T00:00:00Z')); // first credit expires 03-31: inside the 7-day window
    const warned = await ledger.warnExpiring(ctx.prisma);
    expect(warned).toHaveLength(1);
    const note = await ctx.prisma.notification.findUniqueOrThrow({ where: { id: warned[0]!.id } });
    expect(note.payload).toMatchObject({ points: 40 });
    expect(await ledger.warnExpiring(ctx.prisma)).toHaveLength(0);

    clock.set(new Date('2026-04-01T00:00:00Z'));
    // (Other tests' customers expire too; look at this one's ledger.)
    await ledger.expireDue(ctx.prisma);
    expect(await ledger.expireDue(ctx.prisma)).toEqual({ expiredPoints: 0, credits: 0 });
    const expiries = await ctx.prisma.loyaltyTransaction.findMany({ where: { customerId: customer.id, kind: 'expiry' } });
    expect(expiries.map((e) => e.points)).toEqual([-40]);
    const saved = await ctx.prisma.customer.findUniqueOrThrow({ where: { id: customer.id } });
    expect(saved.pointsBalance).toBe(200);
    const sum = await ctx.prisma.loyaltyTransaction.aggregate({ where: { customerId: customer.id }, _sum: { points: true } });
    expect(sum._sum.points).toBe(200);
  });

  it('reverses a returned order once: its points (as far as the balance allows) and its spend', async () => {
    const customer = await createCustomer(ctx.prisma);
    const { order } = await deliveredOrder(customer.id, 5_000);
    await ctx.prisma.$transaction((tx) => ledger.reverseOrder(tx, order.id));
    await ctx.prisma.$transaction((tx) => ledger.reverseOrder(tx, order.id));
    const saved = await ctx.prisma.customer.findUniqueOrThrow({ where: { id: customer.id } });
    expect(saved.pointsBalance).toBe(0);
    expect(Number(saved.lifetimeSpend)).toBe(0);
    expect(await ctx.prisma.loyaltyTransaction.count({ where: { orderId: order.id, kind: 'reversal' } })).toBe(1);
  });
});
