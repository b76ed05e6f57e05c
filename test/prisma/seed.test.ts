import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../prisma/seed.js';
import { ALL_STATUSES } from '../../prisma/seed-data.js';
import { createTestContext, type TestContext } from '../support/context.js';

let ctx: TestContext;
beforeAll(async () => { ctx = await createTestContext(); });
afterAll(async () => { await ctx.close(); });

async function snapshot() {
  const p = ctx.prisma;
  return {
    products: await p.product.count(),
    outOfStock: await p.product.count({ where: { stock: 0 } }),
    customers: await p.customer.count(),
    addresses: await p.address.count(),
    orders: await p.order.count(),
    items: await p.orderItem.count(),
    events: await p.orderStatusEvent.count(),
    ledger: await p.loyaltyTransaction.count(),
    wishlist: await p.wishlistItem.count(),
    alerts: await p.productAlert.count(),
    tiers: await p.loyaltyTier.count(),
  };
}

describe('seed', () => {
  it('creates the demo shop, and a second run changes nothing', async () => {
    const summary = await seed(ctx.prisma, ctx.config);
    expect(summary.products).toBe(50);
    const first = await snapshot();
    expect(first.outOfStock).toBeGreaterThan(3);
    expect(first.customers).toBe(5);
    await seed(ctx.prisma, ctx.config);
    expect(await snapshot()).toEqual(first);
  });

  it('gives every customer orders in every status, with tracking on shipped ones', async () => {
    const customers = await ctx.prisma.customer.findMany({ include: { orders: { include: { statusEvents: true } } } });
    for (const c of customers) {
      expect(new Set(c.orders.map((o) => o.status))).toEqual(new Set(ALL_STATUSES));
      const shipped = c.orders.find((o) => o.status === 'shipped')!;
      expect(shipped.trackingNumber).toMatch(/^\d+$/);
      expect(shipped.statusEvents.map((e) => e.status)).toEqual(['created', 'confirmed', 'paid', 'assembling', 'shipped']);
    }
    expect(customers.some((c) => c.language === 'en')).toBe(true);
  });

  it('keeps cached balances equal to the ledger', async () => {
    const customers = await ctx.prisma.customer.findMany();
    for (const c of customers) {
      const sum = await ctx.prisma.loyaltyTransaction.aggregate({ where: { customerId: c.id }, _sum: { points: true } });
      expect(c.pointsBalance).toBe(sum._sum.points);
      expect(c.pointsBalance).toBeGreaterThan(0);
      expect(c.loyaltyTierCode).not.toBeNull();
    }
  });
});
