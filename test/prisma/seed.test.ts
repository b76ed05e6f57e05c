import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetDemoData, seed } from '../../prisma/seed.js';
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
  // Two full seeds: seconds on an idle machine, far more when the machine is busy.
  it('creates the demo shop, and a second run changes nothing', { timeout: 120_000 }, async () => {
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

describe('seed dates and names', () => {
  it('dates every order, status event and loyalty transaction in the past, relative to now', async () => {
    const now = new Date();
    const future = { gt: now };
    expect(await ctx.prisma.order.count({ where: { placedAt: future } })).toBe(0);
    expect(await ctx.prisma.orderStatusEvent.count({ where: { occurredAt: future } })).toBe(0);
    expect(await ctx.prisma.loyaltyTransaction.count({ where: { createdAt: future } })).toBe(0);
    // Relative to now, not to a fixed date: the newest order is at most a few weeks old.
    const newest = await ctx.prisma.order.findFirst({ orderBy: { placedAt: 'desc' } });
    expect(now.getTime() - newest!.placedAt.getTime()).toBeLessThan(30 * 24 * 3600 * 1000);
  });

  it('names products with colours that agree in Russian, and plainly in English', async () => {
    const byName = new Map((await ctx.prisma.product.findMany()).map((p) => [p.name, p.nameEn]));
    expect(byName.get('Чайник заварочный, белый')).toBe('Teapot, white');
    expect(byName.has('Кружка керамическая, белая')).toBe(true);
    expect(byName.has('Полотенце банное, белое')).toBe(true);
    expect([...byName.keys()].some((n) => /Чайник заварочный, белая/.test(n))).toBe(false);
  });

  it('keeps payment statuses consistent with the order status', async () => {
    const orders = await ctx.prisma.order.findMany({ select: { status: true, paymentStatus: true } });
    for (const o of orders) {
      const expected = o.status === 'created' || o.status === 'confirmed' ? 'pending' : o.status === 'cancelled' ? 'cancelled' : o.status === 'returned' ? 'refunded' : 'paid';
      expect(`${o.status}:${o.paymentStatus}`).toBe(`${o.status}:${expected}`);
    }
  });

  it('resets to a clean demo: resetDemoData empties the tables, seed fills them again', async () => {
    await ctx.prisma.customer.update({ where: { phone: '+79990000001' }, data: { firstName: 'Changed' } });
    await resetDemoData(ctx.prisma);
    expect(await ctx.prisma.customer.count()).toBe(0);
    expect(await ctx.prisma.order.count()).toBe(0);
    await seed(ctx.prisma, ctx.config);
    expect((await ctx.prisma.customer.findUnique({ where: { phone: '+79990000001' } }))!.firstName).toBe('Анна');
    expect(await ctx.prisma.customer.count()).toBe(5);
  });
});
