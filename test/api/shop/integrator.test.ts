/**
 * What issues 8 and 14 ask of the shop API, request by request: the signature covers method
 * and path, rotation, NUL, the columns' limits, parallel first sight, stored answers for
 * repeats, read endpoints, history imports, batch repeats and asynchronous batch jobs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeSignature, signPayload } from '../../../src/lib/signature.js';
import type { App } from '../../../src/server/app.js';
import type { ShopServices } from '../../../src/shop-services.js';
import { createTestContext, type TestContext } from '../../support/context.js';
import { buildShopApp, productInput, rowCounts, SECRET, signedGet, signedPost } from './helpers.js';

let ctx: TestContext;
let app: App;
let shop: ShopServices;
const NEXT_SECRET = 'next-shop-secret-9876543210';

beforeAll(async () => {
  ctx = await createTestContext();
  ({ app, shop } = await buildShopApp(ctx, { secrets: [SECRET, NEXT_SECRET], bodyLimitBytes: 16 * 1024, batchBodyLimitBytes: 2 * 1024 * 1024 }));
});
afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

const counts = () => rowCounts(ctx);
const order = (number: string, extra: Record<string, unknown> = {}) => ({
  number, customerPhone: '+79031234567', status: 'paid', itemsTotal: 1000, total: 1000,
  placedAt: '2026-02-01T10:00:00Z', items: [{ sku: 'ITM-1', name: 'Товар', quantity: 1, price: 1000 }], ...extra,
});

describe('the signature covers method and path (issue 8.2)', () => {
  it('refuses a body signed for one order on another order, and the old body-only form', async () => {
    await signedPost(app, '/api/v1/orders', { eventId: 'sig-o-a', order: order('SIG-A') });
    await signedPost(app, '/api/v1/orders', { eventId: 'sig-o-b', order: order('SIG-B') });
    const body = JSON.stringify({ eventId: 'sig-move', status: 'cancelled', occurredAt: '2026-02-02T10:00:00Z' });
    const t = Math.floor(Date.now() / 1000);
    const forA = `t=${t},v1=${computeSignature(SECRET, t, body, { method: 'POST', path: '/api/v1/orders/SIG-A/status' })}`;
    const before = await counts();
    const moved = await signedPost(app, '/api/v1/orders/SIG-B/status', null, { raw: body, header: forA });
    expect(moved.statusCode).toBe(401);
    expect(moved.json().details).toEqual({ reason: 'mismatch' });
    // The body-only scheme of before (no method, no path) is not accepted anywhere.
    const legacy = await signedPost(app, '/api/v1/orders/SIG-A/status', null, { raw: body, header: signPayload(SECRET, body) });
    expect(legacy.statusCode).toBe(401);
    // Another method on the same path does not match either.
    const asGet = `t=${t},v1=${computeSignature(SECRET, t, body, { method: 'GET', path: '/api/v1/orders/SIG-A/status' })}`;
    expect((await signedPost(app, '/api/v1/orders/SIG-A/status', null, { raw: body, header: asGet })).statusCode).toBe(401);
    expect(await counts()).toEqual(before);
    expect((await ctx.prisma.order.findUniqueOrThrow({ where: { number: 'SIG-B' } })).status).toBe('paid');
    // Signed for the right path it goes through.
    expect((await signedPost(app, '/api/v1/orders/SIG-A/status', null, { raw: body, header: forA })).statusCode).toBe(200);
  });

  it('covers the query string: a lookup signed for one phone does not answer for another', async () => {
    const t = Math.floor(Date.now() / 1000);
    const header = `t=${t},v1=${computeSignature(SECRET, t, '', { method: 'GET', path: '/api/v1/customers/lookup?phone=%2B79031234567' })}`;
    expect((await signedGet(app, '/api/v1/customers/lookup?phone=%2B79031234567', { header })).statusCode).toBe(200);
    expect((await signedGet(app, '/api/v1/customers/lookup?phone=%2B79030000000', { header })).statusCode).toBe(401);
  });

  it('accepts either secret while rotating', async () => {
    expect((await signedPost(app, '/api/v1/products', { eventId: 'rot-1', product: productInput('ROT-1') }, { secret: NEXT_SECRET })).statusCode).toBe(200);
    expect((await signedPost(app, '/api/v1/products', { eventId: 'rot-2', product: productInput('ROT-2') }, { secret: 'retired-secret-00000000000' })).statusCode).toBe(401);
  });
});

describe('reading before parsing (issue 8.3)', () => {
  it('refuses an unsigned body before reading it, a declared oversize body at once, and a signed oversize stream at the cap', async () => {
    const big = JSON.stringify({ eventId: 'cap-1', items: Array.from({ length: 40_000 }, (_, i) => productInput(`CAP-${i}`)) });
    expect(big.length).toBeGreaterThan(2 * 1024 * 1024);
    const before = await counts();
    const unsigned = await signedPost(app, '/api/v1/products/batch', null, { raw: big, header: null });
    expect([unsigned.statusCode, unsigned.json().details.reason]).toEqual([401, 'missing']);
    const signed = await signedPost(app, '/api/v1/products/batch', null, { raw: big });
    expect(signed.statusCode).toBe(413);
    expect(signed.json()).toMatchObject({ error: 'payload_too_large', details: { max: 2 * 1024 * 1024 } });
    // A single route has a small cap of its own.
    const single = await signedPost(app, '/api/v1/products', { eventId: 'cap-2', product: productInput('CAP-X', { description: 'x'.repeat(9000), name: 'y'.repeat(500) }) }, {});
    expect(single.statusCode).toBe(200);
    const over = await signedPost(app, '/api/v1/customers/batch', null, { raw: JSON.stringify({ eventId: 'cap-3', items: [{ phone: '+79030000001', firstName: 'z'.repeat(100) }] }) });
    expect(over.statusCode).toBe(200);
    const singleOver = await signedPost(app, '/api/v1/orders', { eventId: 'cap-4', order: order('CAP-O', { items: Array.from({ length: 200 }, (_, i) => ({ sku: `S${i}`, name: 'n'.repeat(100), quantity: 1, price: 1 })) }) });
    expect(singleOver.statusCode).toBe(413);
    const after = await counts();
    expect(after.orders).toBe(before.orders);
  });

  it('answers a signed empty body 400 naming "body"', async () => {
    const res = await signedPost(app, '/api/v1/products', null, { raw: '' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'invalid_input', fields: [{ field: 'body' }] });
    const arr = await signedPost(app, '/api/v1/products', [1, 2]);
    expect(arr.json().fields[0].field).toBe('body');
  });
});

describe('NUL and nesting (issue 14.1)', () => {
  it('drops NUL from every string of a signed body, path and query, as the bot does: no 500, nothing half-written', async () => {
    const res = await signedPost(app, '/api/v1/customers', { eventId: 'nul-2', customer: { phone: '+79030000002', firstName: 'Ан\u0000на', externalId: 'nul\u0000-ext' } });
    expect(res.statusCode).toBe(200);
    expect(await ctx.prisma.customer.findUniqueOrThrow({ where: { phone: '+79030000002' } })).toMatchObject({ firstName: 'Анна', externalId: 'nul-ext' });
    const o = await signedPost(app, '/api/v1/orders', { eventId: 'nul-3', order: order('NUL-O\u0000', { items: [{ sku: 'S', name: 'a\u0000', quantity: 1, price: 1 }] }) });
    expect(o.statusCode).toBe(200);
    expect((await signedGet(app, '/api/v1/orders/NUL-O%00')).json()).toMatchObject({ number: 'NUL-O', items: [{ name: 'a' }] });
    expect((await signedGet(app, '/api/v1/customers/lookup?externalId=nul%00-ext')).json()).toMatchObject({ firstName: 'Анна' });
  });

  it('lands every item of a batch whose strings carry NUL', async () => {
    const res = await signedPost(app, '/api/v1/products/batch', { eventId: 'nul-b', items: [productInput('NB-1'), productInput('NB-2', { name: 'x\u0000' }), productInput('NB-\u00003')] });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ created: 3, failed: 0 });
    expect((await ctx.prisma.product.findUniqueOrThrow({ where: { sku: 'NB-2' } })).name).toBe('x');
    expect(await ctx.prisma.product.count({ where: { sku: 'NB-3' } })).toBe(1);
  });

  it('refuses nesting deeper than any route needs with 400, not a stack overflow', async () => {
    const before = await counts();
    const res = await signedPost(app, '/api/v1/products', null, { raw: `{"eventId":"deep","product":${'['.repeat(5_000)}${']'.repeat(5_000)}}` });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'invalid_input', fields: [{ field: expect.stringMatching(/^product/) }] });
    expect(await counts()).toEqual(before);
  });
});

describe("the columns' limits (issue 14.2)", () => {
  it('stores the documented maxima and refuses one past them with 400', async () => {
    expect((await signedPost(app, '/api/v1/products', { eventId: 'lim-1', product: productInput('LIM-1', { price: 9_999_999_999.99, oldPrice: 9_999_999_999.99, stock: 1_000_000_000 }) })).statusCode).toBe(200);
    expect(Number((await ctx.prisma.product.findUniqueOrThrow({ where: { sku: 'LIM-1' } })).price)).toBe(9_999_999_999.99);
    const before = await counts();
    const over = await signedPost(app, '/api/v1/products', { eventId: 'lim-2', product: productInput('LIM-2', { price: 10_000_000_000 }) });
    expect(over.statusCode).toBe(400);
    expect(over.json().fields[0].field).toBe('product.price');
    const big = { itemsTotal: 9_999_999_999.99, total: 9_999_999_999.99, deliveryCost: 9_999_999_999.99, discount: 9_999_999_999.99, pointsSpent: 2_147_483_647, status: 'delivered' };
    const fits = await signedPost(app, '/api/v1/orders', { eventId: 'lim-3', order: order('LIM-O1', { ...big, customerPhone: '+79030000003' }) });
    expect(fits.statusCode).toBe(200);
    expect(await counts()).not.toEqual(before);
    const points = await signedPost(app, '/api/v1/orders', { eventId: 'lim-4', order: order('LIM-O2', { pointsSpent: 3_000_000_000 }) });
    expect(points.statusCode).toBe(400);
    expect(points.json().fields[0].field).toBe('order.pointsSpent');
  });
});

describe('parallel first sight (issue 14.3)', () => {
  it('20 parallel orders of one new customer: all 2xx, one customer', async () => {
    const phone = '+79035550000';
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => signedPost(app, '/api/v1/orders', { eventId: `par-o-${i}`, order: order(`PAR-${i}`, { customerPhone: phone, items: [{ sku: 'PAR-NEW', name: 'x', quantity: 1, price: 5 }] }) })));
    expect(results.map((r) => r.statusCode), results.filter((r) => r.statusCode !== 200).map((r) => r.body).join('\n')).toEqual(Array(20).fill(200));
    expect(await ctx.prisma.customer.count({ where: { phone } })).toBe(1);
    expect(await ctx.prisma.order.count({ where: { number: { startsWith: 'PAR-' } } })).toBe(20);
  });

  it('parallel upserts of one new product, customer and order number resolve to one row each', async () => {
    const product = await Promise.all(Array.from({ length: 12 }, (_, i) => signedPost(app, '/api/v1/products', { eventId: `par-p-${i}`, product: productInput('PAR-SKU', { price: 100 + i }) })));
    expect(product.map((r) => r.statusCode)).toEqual(Array(12).fill(200));
    expect(product.filter((r) => r.json().created).length).toBe(1);
    const customer = await Promise.all(Array.from({ length: 12 }, (_, i) => signedPost(app, '/api/v1/customers', { eventId: `par-c-${i}`, customer: { phone: '+79035550001', firstName: `N${i}` } })));
    expect(customer.map((r) => r.statusCode)).toEqual(Array(12).fill(200));
    expect(new Set(customer.map((r) => r.json().id)).size).toBe(1);
    const same = await Promise.all(Array.from({ length: 12 }, (_, i) => signedPost(app, '/api/v1/orders', { eventId: `par-n-${i}`, order: order('PAR-SAME', { customerPhone: '+79035550001' }) })));
    expect(same.map((r) => r.statusCode)).toEqual(Array(12).fill(200));
    expect(await ctx.prisma.order.count({ where: { number: 'PAR-SAME' } })).toBe(1);
    expect(await ctx.prisma.orderItem.count({ where: { order: { number: 'PAR-SAME' } } })).toBe(1);
  });
});

describe('a repeated eventId answers the original result (issue 14.7)', () => {
  it('gives back the ids, balance and transaction id of the first answer', async () => {
    const body = { eventId: 'rep-c', customer: { phone: '+79036660000', externalId: 'shop-rep-1' } };
    const first = (await signedPost(app, '/api/v1/customers', body)).json();
    const again = (await signedPost(app, '/api/v1/customers', body)).json();
    expect(again).toEqual({ ...first, duplicate: true });
    expect(again.id).toEqual(expect.any(String));

    const credit = { eventId: 'rep-l', customer: { externalId: 'shop-rep-1' }, kind: 'adjustment', points: 50 };
    const a = (await signedPost(app, '/api/v1/loyalty/transactions', credit)).json();
    await signedPost(app, '/api/v1/loyalty/transactions', { ...credit, eventId: 'rep-l2', points: 7 });
    const b = (await signedPost(app, '/api/v1/loyalty/transactions', credit)).json();
    expect(b).toEqual({ ...a, duplicate: true });
    expect(b).toMatchObject({ transactionId: expect.any(String), balance: 50, points: 50 });

    const batch = { eventId: 'rep-b', items: [productInput('REP-1'), productInput('REP-2', { price: -1 })] };
    const c = (await signedPost(app, '/api/v1/products/batch', batch)).json();
    expect((await signedPost(app, '/api/v1/products/batch', batch)).json()).toEqual({ ...c, duplicate: true });
  });
});

describe('read endpoints (issue 14.10)', () => {
  it('looks a customer up by phone or externalId, an order with its history, a product with its watchers', async () => {
    await signedPost(app, '/api/v1/customers', { eventId: 'rd-c', customer: { phone: '+79037770000', externalId: 'shop-77', firstName: 'Вера' } });
    await signedPost(app, '/api/v1/orders', { eventId: 'rd-o', order: order('RD-1', { customerExternalId: 'shop-77', customerPhone: '+79037770000' }) });
    await signedPost(app, '/api/v1/orders/RD-1/status', { eventId: 'rd-s', status: 'shipped', occurredAt: '2026-02-03T10:00:00Z', trackingNumber: 'T-1' });
    const byPhone = await signedGet(app, '/api/v1/customers/lookup?phone=%2B7%20903%20777-00-00');
    expect(byPhone.statusCode).toBe(200);
    expect(byPhone.json()).toMatchObject({ externalId: 'shop-77', firstName: 'Вера', messengers: [], points: { balance: 0 } });
    const byExternal = await signedGet(app, '/api/v1/customers/lookup?externalId=shop-77');
    expect(byExternal.json().id).toBe(byPhone.json().id);
    expect((await signedGet(app, '/api/v1/customers/lookup?externalId=nobody')).statusCode).toBe(404);
    expect((await signedGet(app, '/api/v1/customers/lookup')).statusCode).toBe(400);
    expect((await signedGet(app, '/api/v1/customers/lookup?phone=12')).json()).toMatchObject({ error: 'invalid_input', fields: [{ field: 'phone' }] });

    const o = await signedGet(app, '/api/v1/orders/RD-1');
    expect(o.statusCode).toBe(200);
    expect(o.json()).toMatchObject({ number: 'RD-1', status: 'shipped', trackingNumber: 'T-1', customer: { externalId: 'shop-77' }, history: [{ status: 'paid' }, { status: 'shipped' }] });
    expect((await signedGet(app, '/api/v1/orders/NOPE-1')).statusCode).toBe(404);

    const p = await signedGet(app, '/api/v1/products/ITM-1');
    expect(p.statusCode).toBe(404);
    await signedPost(app, '/api/v1/products', { eventId: 'rd-p', product: productInput('RD-P/1') });
    const found = await signedGet(app, `/api/v1/products/${encodeURIComponent('RD-P/1')}`);
    expect(found.json()).toMatchObject({ sku: 'RD-P/1', price: 1990, watchers: { backInStock: 0, priceDrop: 0 } });
    // Unsigned reads are refused like writes.
    expect((await app.inject({ url: '/api/v1/orders/RD-1' })).statusCode).toBe(401);
  });
});

describe('history imports (issue 14.13)', () => {
  it('stores a delivered past order without points and without telling the customer', async () => {
    const phone = '+79038880000';
    const customer = await ctx.prisma.customer.create({ data: { phone } });
    await ctx.prisma.channelIdentity.create({ data: { platform: 'telegram', externalId: '88001', chatId: '88001', customerId: customer.id, linkedAt: new Date() } });
    const notificationsBefore = await ctx.prisma.notification.count();
    const res = await signedPost(app, '/api/v1/orders', { eventId: 'hist-1', order: order('HIST-1', { customerPhone: phone, status: 'delivered', itemsTotal: 50_000, total: 50_000, history: true }) });
    expect(res.statusCode).toBe(200);
    const batch = await signedPost(app, '/api/v1/orders/batch', { eventId: 'hist-b', items: [order('HIST-2', { customerPhone: phone, status: 'delivered', total: 9000, history: true })] });
    expect(batch.json()).toMatchObject({ created: 1, failed: 0 });
    const after = await ctx.prisma.customer.findUniqueOrThrow({ where: { id: customer.id } });
    expect(after.pointsBalance).toBe(0);
    expect(await ctx.prisma.loyaltyTransaction.count({ where: { customerId: customer.id } })).toBe(0);
    expect(await ctx.prisma.notification.count()).toBe(notificationsBefore);
    // The same order sent live is accrued and announced: the flag, not the status, decides.
    await signedPost(app, '/api/v1/orders', { eventId: 'hist-live', order: order('LIVE-1', { customerPhone: phone, status: 'delivered', itemsTotal: 1000, total: 1000 }) });
    expect((await ctx.prisma.customer.findUniqueOrThrow({ where: { id: customer.id } })).pointsBalance).toBeGreaterThan(0);
    expect(await ctx.prisma.notification.count()).toBeGreaterThan(notificationsBefore);
  });
});

describe('batches (issue 14.12)', () => {
  it('treats a repeated key inside one batch the same way for every kind, worded like the single route', async () => {
    const products = await signedPost(app, '/api/v1/products/batch', { eventId: 'dup-p', items: [productInput('DUP-1'), productInput('DUP-1', { price: 5 })] });
    const orders = await signedPost(app, '/api/v1/orders/batch', { eventId: 'dup-o', items: [order('DUP-O'), order('DUP-O', { total: 5 })] });
    const customers = await signedPost(app, '/api/v1/customers/batch', { eventId: 'dup-c', items: [{ phone: '+79039990000' }, { phone: '8 903 999-00-00', firstName: 'B' }] });
    expect(products.json().errors).toEqual([{ index: 1, key: 'DUP-1', field: 'sku', message: 'duplicate sku in this batch (first at item 0)' }]);
    expect(orders.json().errors).toEqual([{ index: 1, key: 'DUP-O', field: 'number', message: 'duplicate number in this batch (first at item 0)' }]);
    expect(customers.json().errors).toEqual([{ index: 1, key: '***0000', field: 'phone', message: 'duplicate phone in this batch (first at item 0)' }]);
    expect(Number((await ctx.prisma.product.findUniqueOrThrow({ where: { sku: 'DUP-1' } })).price)).toBe(1990);
    // An item refused by the schema carries the single route's wording for the same problem.
    const single = await signedPost(app, '/api/v1/products', { eventId: 'word-1', product: productInput('W-1', { price: -1 }) });
    const inBatch = await signedPost(app, '/api/v1/products/batch', { eventId: 'word-b', items: [productInput('W-2', { price: -1 })] });
    expect(inBatch.json().errors[0]).toMatchObject({ field: 'price', message: single.json().fields[0].message });
  });

  it('runs ?async=true in the background: 202 { jobId }, then progress and per-item errors', async () => {
    const items: unknown[] = Array.from({ length: 600 }, (_, i) => ({ phone: `+7904${String(1_000_000 + i)}`, externalId: `async-${i}` }));
    items[5] = { phone: 'nope' };
    items[7] = { phone: '+79041000000' }; // repeats item 0's phone
    const before = await ctx.prisma.customer.count();
    const res = await signedPost(app, '/api/v1/customers/batch?async=true', { eventId: 'async-1', items });
    expect(res.statusCode).toBe(202);
    const { jobId } = res.json();
    expect(res.json()).toMatchObject({ ok: true, duplicate: false, status: 'queued' });
    const queued = await signedGet(app, `/api/v1/jobs/${jobId}`);
    expect(queued.json()).toMatchObject({ status: 'queued', received: 600 });
    // The queue carries the job; run it here as the worker would.
    const job = await shop.importQueue.queue().getJob(jobId);
    expect(job?.data).toEqual({ importJobId: jobId });
    await shop.importQueue.processor(job!);
    const done = (await signedGet(app, `/api/v1/jobs/${jobId}`)).json();
    expect(done).toMatchObject({ status: 'done', received: 600, processed: 600, created: 598, failed: 2 });
    expect(done.errors.map((e: { index: number; field: string }) => [e.index, e.field])).toEqual([[5, 'phone'], [7, 'phone']]);
    expect((await ctx.prisma.customer.count()) - before).toBe(598);
    expect((await ctx.prisma.importJob.findUniqueOrThrow({ where: { id: jobId } })).items).toBeNull();
    // A repeat of the event answers the same job; another body under the id is a conflict.
    const again = await signedPost(app, '/api/v1/customers/batch?async=true', { eventId: 'async-1', items });
    expect([again.statusCode, again.json().jobId, again.json().duplicate]).toEqual([202, jobId, true]);
    expect((await signedPost(app, '/api/v1/customers/batch?async=true', { eventId: 'async-1', items: items.slice(1) })).statusCode).toBe(409);
    expect((await signedGet(app, '/api/v1/jobs/00000000-0000-7000-8000-000000000000')).statusCode).toBe(404);
    expect((await signedGet(app, '/api/v1/jobs/not-a-uuid')).statusCode).toBe(400);
    expect((await signedPost(app, '/api/v1/customers/batch?async=maybe', { eventId: 'async-2', items })).statusCode).toBe(400);
  }, 240_000);
});
