/** Edges of the shop API the issue names: body limits, media types, field names in 400s, loyalty at checkout. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../src/server/app.js';
import { createTestContext, type TestContext } from '../../support/context.js';
import { createCustomer } from '../../support/factories.js';
import { buildShopApp, productInput, rowCounts, signedPost } from './helpers.js';

let ctx: TestContext;
let app: App;

beforeAll(async () => {
  ctx = await createTestContext();
  ({ app } = await buildShopApp(ctx, { batchBodyLimitBytes: 64 * 1024 }));
});
afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

const counts = () => rowCounts(ctx);
const product = productInput;

describe('transport', () => {
  it('answers 413 (not 500) to a body over the limit and writes nothing', async () => {
    const before = await counts();
    const items = Array.from({ length: 2000 }, (_, i) => product(`BIG-${i}`, { description: 'x'.repeat(40) }));
    const res = await signedPost(app, '/api/v1/products/batch', { eventId: 'evt-big', items });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ error: 'payload_too_large', message: expect.any(String), details: { max: 64 * 1024 }, requestId: expect.any(String) });
    expect(await counts()).toEqual(before);
  });

  it('answers 415 to a body that is not JSON by media type', async () => {
    const raw = 'sku=1';
    const res = await signedPost(app, '/api/v1/products', null, { raw, contentType: 'text/plain' });
    expect(res.statusCode).toBe(415);
    // Unsigned, the same request is refused for its signature first.
    expect((await app.inject({ method: 'POST', url: '/api/v1/products', payload: raw, headers: { 'content-type': 'text/plain' } })).statusCode).toBe(401);
  });
});

describe('field names in 400s', () => {
  it('names an unknown field and a missing nested field by their own path', async () => {
    const unknown = await signedPost(app, '/api/v1/products', { eventId: 'evt-f1', product: product('F-1', { colour: 'red' }) });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().fields.map((f: { field: string }) => f.field)).toContain('product.colour');
    const { name: _omit, ...noName } = product('F-2');
    const missing = await signedPost(app, '/api/v1/products', { eventId: 'evt-f2', product: noName });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().fields.map((f: { field: string }) => f.field)).toContain('product.name');
  });

  it('refuses an unknown field inside a batch item by index, like the single route', async () => {
    const res = await signedPost(app, '/api/v1/products/batch', { eventId: 'evt-f3', items: [product('F-3'), product('F-4', { colour: 'red' })] });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ok: false, created: 1, failed: 1, errors: [{ index: 1, key: 'F-4', field: 'colour' }] });
  });
});

describe('loyalty at checkout', () => {
  it('answers the balance and tier, refuses a redemption beyond the balance with 409 and writes nothing', async () => {
    const customer = await createCustomer(ctx.prisma, { phone: '+79160000401' });
    const credit = await signedPost(app, '/api/v1/loyalty/transactions', { eventId: 'evt-l1', customer: { phone: '+7 916 000-04-01' }, kind: 'adjustment', points: 300, reason: 'welcome' });
    expect(credit.statusCode).toBe(200);
    expect(credit.json()).toMatchObject({ points: 300, balance: 300 });

    const before = await counts();
    const tooMuch = await signedPost(app, '/api/v1/loyalty/transactions', { eventId: 'evt-l2', customer: { phone: '+79160000401' }, kind: 'redemption', points: 301 });
    expect(tooMuch.statusCode).toBe(409);
    expect(await counts()).toEqual(before);

    // Tied to an order that is not this customer's: refused, naming the field, nothing written.
    const other = await createCustomer(ctx.prisma, { phone: '+79160000402' });
    await ctx.prisma.order.create({ data: { number: 'L-OTHER', customerId: other.id, itemsTotal: 100, total: 100, placedAt: new Date() } });
    for (const orderNumber of ['L-OTHER', 'L-MISSING']) {
      const wrong = await signedPost(app, '/api/v1/loyalty/transactions', { eventId: `evt-l-${orderNumber}`, customer: { phone: '+79160000401' }, kind: 'adjustment', points: 10, orderNumber });
      expect(wrong.statusCode).toBe(400);
      expect(wrong.json()).toMatchObject({ error: 'invalid_input', fields: [{ field: 'orderNumber' }] });
    }
    const after = await counts();
    expect({ loyalty: after.loyalty, events: after.events }).toEqual({ loyalty: before.loyalty, events: before.events });

    const balance = await signedPost(app, '/api/v1/loyalty/balance', { customer: { phone: '+79160000401' } });
    expect(balance.statusCode).toBe(200);
    expect(balance.json()).toMatchObject({ customerId: customer.id, balance: 300 });
    expect((await signedPost(app, '/api/v1/loyalty/balance', { customer: { phone: '+79160000499' } })).statusCode).toBe(404);
    expect((await signedPost(app, '/api/v1/loyalty/balance', { customer: {} })).statusCode).toBe(400);
  });
});
