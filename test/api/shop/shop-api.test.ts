import { describe, expect, it } from 'vitest';
import type { TestContext } from '../../support/context.js';
import { useShopApp, productInput, rowCounts, signedPost, SECRET } from './helpers.js';
import type { App } from '../../../src/server/app.js';
import { computeSignature } from '../../../src/lib/signature.js';

let ctx: TestContext;
let app: App;

useShopApp((w) => ({ ctx, app } = w));

const counts = () => rowCounts(ctx);
const product = productInput;

describe('signature', () => {
  const body = { eventId: 'evt-sig', product: product('SIG-1') };

  it.each([
    ['no header', { header: null }, 'missing'],
    ['wrong secret', { secret: 'another-secret-0123456789' }, 'mismatch'],
    ['stale timestamp', { at: new Date(Date.now() - 400_000) }, 'stale'],
    ['timestamp from the future', { at: new Date(Date.now() + 400_000) }, 'stale'],
    ['garbage header', { header: 'v1=abc' }, 'malformed'],
  ] as const)('refuses %s with 401 and writes nothing', async (_name, options, reason) => {
    const before = await counts();
    const res = await signedPost(app, '/api/v1/products', body, options as never);
    expect(res.statusCode).toBe(401);
    expect(res.json().details.reason).toBe(reason);
    expect(await counts()).toEqual(before);
  });

  it('refuses a body changed after signing', async () => {
    const raw = JSON.stringify(body);
    const t = Math.floor(Date.now() / 1000);
    const header = `t=${t},v1=${computeSignature(SECRET, t, raw, { method: 'POST', path: '/api/v1/products' })}`;
    const before = await counts();
    const res = await signedPost(app, '/api/v1/products', null, { raw: raw.replace('1990', '1', ), header });
    expect(res.statusCode).toBe(401);
    expect(await counts()).toEqual(before);
  });

  it('refuses unsigned invalid JSON with 401 (not 400) and signed invalid JSON with 400', async () => {
    expect((await signedPost(app, '/api/v1/products', null, { raw: '{"eventId":', header: null })).statusCode).toBe(401);
    const res = await signedPost(app, '/api/v1/products', null, { raw: '{"eventId":' });
    expect(res.statusCode).toBe(400);
    expect(res.json().fields).toEqual([expect.objectContaining({ field: 'body' })]);
  });
});

describe('validation', () => {
  it.each([
    ['price', { eventId: 'evt-v1', product: product('V-1', { price: -5 }) }, 'product.price'],
    ['stock', { eventId: 'evt-v2', product: product('V-2', { stock: 'many' }) }, 'product.stock'],
    ['unknown field', { eventId: 'evt-v3', product: product('V-3', { colour: 'red' }) }, 'product.colour'],
    ['eventId', { product: product('V-4') }, 'eventId'],
  ])('answers 400 naming the field (%s) and writes nothing', async (_name, body, path) => {
    const before = await counts();
    const res = await signedPost(app, '/api/v1/products', body);
    expect(res.statusCode).toBe(400);
    expect(res.json().fields.map((f: { field: string }) => f.field)).toContain(path);
    expect(await counts()).toEqual(before);
  });

  it('answers 400 for a phone that is not a phone, naming the field', async () => {
    const before = await counts();
    const res = await signedPost(app, '/api/v1/customers', { eventId: 'evt-phone', customer: { phone: '12' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().fields).toEqual([{ field: 'customer.phone', message: expect.any(String) }]);
    expect(await counts()).toEqual(before);
  });
});

describe('idempotency', () => {
  it('processes an event id once, answers a replay 200 duplicate with the first answer, and a different body with the same id 409', async () => {
    const body = { eventId: 'evt-idem-1', customer: { phone: '+7 (912) 345-67-89', firstName: 'Анна', language: 'ru', marketingConsent: true } };
    const first = await signedPost(app, '/api/v1/customers', body);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ ok: true, duplicate: false, created: true });
    const replay = await signedPost(app, '/api/v1/customers', body);
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toEqual({ ...first.json(), duplicate: true });
    const conflict = await signedPost(app, '/api/v1/customers', { ...body, customer: { ...body.customer, firstName: 'Мария' } });
    expect(conflict.statusCode).toBe(409);
    const customer = await ctx.prisma.customer.findUniqueOrThrow({ where: { phone: '+79123456789' } });
    expect(customer.firstName).toBe('Анна');
    expect(await ctx.prisma.consentEvent.count({ where: { customerId: customer.id, kind: 'marketing' } })).toBe(1);
  });

  it('handles the same event sent twice at once exactly once', async () => {
    const body = { eventId: 'evt-race', product: product('RACE-1') };
    const [a, b] = await Promise.all([signedPost(app, '/api/v1/products', body), signedPost(app, '/api/v1/products', body)]);
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    expect([a.json().duplicate, b.json().duplicate].sort()).toEqual([false, true]);
    expect(await ctx.prisma.product.count({ where: { sku: 'RACE-1' } })).toBe(1);
  });
});

describe('orders, status and loyalty', () => {
  it('creates an order with a new customer, records status changes on the timeline, and accrues points once on delivery', async () => {
    const order = {
      number: 'A-1001', customerPhone: '+79161112233', status: 'paid', itemsTotal: 10000, deliveryCost: 300, total: 10300,
      placedAt: '2026-01-10T10:00:00Z', items: [{ sku: 'X-1', name: 'Кофеварка', quantity: 2, price: 5000 }],
    };
    expect((await signedPost(app, '/api/v1/orders', { eventId: 'evt-o1', order })).statusCode).toBe(200);
    const shipped = await signedPost(app, '/api/v1/orders/A-1001/status', { eventId: 'evt-o2', status: 'shipped', occurredAt: '2026-01-11T10:00:00Z', carrier: 'CDEK', trackingNumber: 'TR123', trackingUrl: 'https://track.example/TR123' });
    expect(shipped.statusCode).toBe(200);
    const delivered = { eventId: 'evt-o3', status: 'delivered', occurredAt: '2026-01-12T10:00:00Z' };
    expect((await signedPost(app, '/api/v1/orders/A-1001/status', delivered)).statusCode).toBe(200);
    // The same "delivered" again under a new event id: the timeline grows, points do not.
    expect((await signedPost(app, '/api/v1/orders/A-1001/status', { ...delivered, eventId: 'evt-o4', occurredAt: '2026-01-12T11:00:00Z' })).statusCode).toBe(200);

    const saved = await ctx.prisma.order.findUniqueOrThrow({ where: { number: 'A-1001' }, include: { statusEvents: true, customer: true } });
    expect(saved.status).toBe('delivered');
    expect(saved.trackingNumber).toBe('TR123');
    expect(saved.statusEvents.map((e) => e.status).sort()).toEqual(['delivered', 'delivered', 'paid', 'shipped']);
    // Base tier 3% of 10 000 (goods, without delivery).
    expect(saved.customer.pointsBalance).toBe(300);
    expect(await ctx.prisma.loyaltyTransaction.count({ where: { orderId: saved.id, kind: 'accrual' } })).toBe(1);

    const balance = await signedPost(app, '/api/v1/loyalty/balance', { customer: { phone: '8 916 111-22-33' } });
    expect(balance.statusCode).toBe(200);
    expect(balance.json()).toMatchObject({ balance: 300, lifetimeSpend: 10000, tier: { code: 'base' }, nextTier: { code: 'silver', spendNeeded: 10000 } });

    const redeem = await signedPost(app, '/api/v1/loyalty/transactions', { eventId: 'evt-r1', customer: { phone: '+79161112233' }, kind: 'redemption', points: 120, orderNumber: 'A-1001' });
    expect(redeem.json()).toMatchObject({ ok: true, points: -120, balance: 180 });
    const tooMuch = await signedPost(app, '/api/v1/loyalty/transactions', { eventId: 'evt-r2', customer: { phone: '+79161112233' }, kind: 'redemption', points: 1000 });
    expect(tooMuch.statusCode).toBe(409);
    expect((await ctx.prisma.customer.findUniqueOrThrow({ where: { phone: '+79161112233' } })).pointsBalance).toBe(180);
  });

  it('answers 404 for a status change of an unknown order and writes nothing', async () => {
    const before = await counts();
    const res = await signedPost(app, '/api/v1/orders/NOPE/status', { eventId: 'evt-404', status: 'shipped', occurredAt: '2026-01-11T10:00:00Z' });
    expect(res.statusCode).toBe(404);
    expect(await counts()).toEqual(before);
  });
});

describe('batch import', () => {
  it('imports 10,000 products in one call and reports the bad items by index', async () => {
    const items: unknown[] = Array.from({ length: 10_000 }, (_, i) => product(`B-${i}`, { price: 100 + (i % 50), stock: i % 7 }));
    items[17] = product('B-17', { price: 'free' });
    items[4242] = { sku: 'B-4242', name: 'no price', stock: 1 };
    items[9999] = product('B-5'); // duplicate sku
    const before = await ctx.prisma.product.count();
    const res = await signedPost(app, '/api/v1/products/batch', { eventId: 'evt-batch-1', items });
    expect(res.statusCode).toBe(200);
    const report = res.json();
    expect(report).toMatchObject({ ok: false, received: 10_000, created: 9_997, failed: 3 });
    expect(report.errors.map((e: { index: number; field: string | null; key: string }) => [e.index, e.field, e.key])).toEqual([
      [17, 'price', 'B-17'],
      [4242, 'price', 'B-4242'],
      [9999, 'sku', 'B-5'],
    ]);
    expect((await ctx.prisma.product.count()) - before).toBe(9_997);
    const replay = await signedPost(app, '/api/v1/products/batch', { eventId: 'evt-batch-1', items });
    expect(replay.json()).toMatchObject({ duplicate: true });
  }, 120_000);

  it('imports orders with per-item errors and updates existing ones', async () => {
    const order = (n: number, extra: Record<string, unknown> = {}) => ({
      number: `IMP-${n}`, customerPhone: `+7903000${String(1000 + n)}`, status: 'delivered', itemsTotal: 1000, total: 1000,
      placedAt: '2025-06-01T10:00:00Z', items: [{ sku: 'B-1', name: 'Товар', quantity: 1, price: 1000 }], ...extra,
    });
    const items = [order(1), order(2, { customerPhone: 'not a phone' }), order(3, { status: 'lost' }), order(4)];
    const res = await signedPost(app, '/api/v1/orders/batch', { eventId: 'evt-ob-1', items });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ received: 4, created: 2, failed: 2 });
    expect(res.json().errors.map((e: { index: number; field: string | null }) => [e.index, e.field])).toEqual([[1, 'customerPhone'], [2, 'status']]);
    // Imported history is not announced.
    expect(await ctx.prisma.notification.count()).toBe(0);
  });
});

describe('OpenAPI', () => {
  it('documents the shop routes with their security scheme', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
    for (const path of ['/api/v1/customers', '/api/v1/products', '/api/v1/products/batch', '/api/v1/orders', '/api/v1/orders/{number}/status', '/api/v1/loyalty/transactions', '/api/v1/loyalty/balance', '/api/admin/outbox', '/api/v1/jobs/{id}', '/api/v1/customers/lookup', '/api/v1/orders/{number}', '/api/v1/products/{sku}', '/api/v1/webhooks/test']) {
      expect(doc.paths[path], path).toBeDefined();
    }
    expect(doc.paths['/api/v1/products'].post.security).toEqual([{ shopSignature: [] }]);
    // Every answer a signed route can give is documented, whatever its origin.
    for (const [path, method] of [['/api/v1/products', 'post'], ['/api/v1/products/batch', 'post'], ['/api/v1/orders/{number}', 'get']] as const) {
      expect(Object.keys(doc.paths[path][method].responses), path).toEqual(expect.arrayContaining(['200', '400', '401', '404', '409', '413', '414', '415', '500', '503']));
    }
    expect(doc.paths['/api/v1/products/batch'].post.responses['202']).toBeDefined();
    expect(doc.components.securitySchemes.shopSignature.description).toContain('<t>.<METHOD>.<path>.<raw body>');
  });
});
