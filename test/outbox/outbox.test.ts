/** The outbox against a small local shop endpoint: retries with backoff, signature, dead rows, admin API. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/infra/logger.js';
import { verifySignature } from '../../src/lib/signature.js';
import { enqueueOutbox, type OutboxEventPayloads, type OutboxEventType } from '../../src/outbox/enqueue.js';
import { backoffDelay } from '../../src/outbox/outbox.js';
import { QueueName } from '../../src/queues/names.js';
import type { App } from '../../src/server/app.js';
import type { ShopServices } from '../../src/shop-services.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { createCustomer } from '../support/factories.js';
import { ADMIN_TOKEN, buildShopApp, SECRET } from '../api/shop/helpers.js';

interface Received { body: string; signature: string | undefined; eventId: string | undefined }
let ctx: TestContext;
let server: Server;
let app: App;
let shop: ShopServices;
const received: Received[] = [];
/** How many of the next requests fail, per event id. */
const failuresLeft = new Map<string, number>();
/** Every log line of this file, to prove the phone a webhook carries never reaches a log. */
const logLines: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const eventId = req.headers['kabinet-event-id'] as string | undefined;
      received.push({ body, signature: req.headers['kabinet-signature'] as string | undefined, eventId });
      const left = failuresLeft.get(eventId ?? '') ?? 0;
      if (left > 0) {
        failuresLeft.set(eventId!, left - 1);
        res.writeHead(503).end('busy');
      } else res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/kabinet-webhook`;
  ctx = await createTestContext({ env: { SHOP_WEBHOOK_URL: url, SHOP_API_SECRET: SECRET, OUTBOX_MAX_ATTEMPTS: '3', OUTBOX_BACKOFF_BASE_MS: '50', OUTBOX_BACKOFF_MAX_MS: '200' }, logger: createLogger({ level: 'debug', destination: { write: (line: string) => { logLines.push(line); } } }) });
  ({ app, shop } = await buildShopApp(ctx));
  ctx.queues.worker(QueueName.outbox, shop.outbox.processor, { concurrency: 2 });
});
afterAll(async () => {
  await app?.close();
  await ctx?.close();
  await new Promise((r) => server.close(r));
});

/** Payloads are trimmed to what each test checks. */
async function write<T extends OutboxEventType>(type: T, payload: Record<string, unknown>) {
  const id = await ctx.prisma.$transaction((tx) => enqueueOutbox(tx, type, payload as unknown as OutboxEventPayloads[T]));
  return id;
}

describe('outbox delivery', () => {
  it('delivers on the third try after two failures, signed so the shop can verify it', async () => {
    const id = await write('repeat_order.requested', { orderId: 'o-1', cartUrl: 'https://shop.example/cart' });
    failuresLeft.set(id, 2);
    await shop.outbox.dispatch([id]);
    await vi.waitFor(async () => expect((await ctx.prisma.outboxEvent.findUniqueOrThrow({ where: { id } })).status).toBe('delivered'), { timeout: 10_000, interval: 25 });
    const mine = received.filter((r) => r.eventId === id);
    expect(mine).toHaveLength(3);
    const row = await ctx.prisma.outboxEvent.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ attempts: 3, lastStatusCode: 200, lastError: null });
    const last = mine[2]!;
    expect(verifySignature({ secret: SECRET, header: last.signature, rawBody: last.body, toleranceSeconds: 300 })).toMatchObject({ ok: true });
    expect(verifySignature({ secret: 'another-secret-000000', header: last.signature, rawBody: last.body, toleranceSeconds: 300 }).ok).toBe(false);
    expect(JSON.parse(last.body)).toMatchObject({ id, type: 'repeat_order.requested', data: { orderId: 'o-1' } });
  });

  it('marks a row dead after max attempts, keeps the error, and the admin API lists it and retries it', async () => {
    const id = await write('support.requested', { conversationId: 'c-1' });
    failuresLeft.set(id, 3);
    await shop.outbox.dispatch([id]);
    await vi.waitFor(async () => expect((await ctx.prisma.outboxEvent.findUniqueOrThrow({ where: { id } })).status).toBe('dead'), { timeout: 10_000, interval: 25 });
    expect(await ctx.prisma.outboxEvent.findUniqueOrThrow({ where: { id } })).toMatchObject({ attempts: 3, lastStatusCode: 503, lastError: 'HTTP 503' });

    expect((await app.inject({ method: 'GET', url: '/api/admin/outbox?status=dead' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/api/admin/outbox?status=dead', headers: { authorization: 'Bearer wrong-token-0000000000' } })).statusCode).toBe(401);
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const list = await app.inject({ method: 'GET', url: '/api/admin/outbox?status=dead', headers: auth });
    expect(list.statusCode).toBe(200);
    expect(list.json().items.map((r: { id: string }) => r.id)).toContain(id);

    const retry = await app.inject({ method: 'POST', url: `/api/admin/outbox/${id}/retry`, headers: auth });
    expect(retry.statusCode).toBe(200);
    await vi.waitFor(async () => expect((await ctx.prisma.outboxEvent.findUniqueOrThrow({ where: { id } })).status).toBe('delivered'), { timeout: 10_000, interval: 25 });
    expect(received.filter((r) => r.eventId === id)).toHaveLength(4);
    expect((await app.inject({ method: 'POST', url: `/api/admin/outbox/${id}/retry`, headers: auth })).statusCode).toBe(404);
  });

  it('delivers rows whose job was never queued (crash between commit and dispatch) through the sweeper', async () => {
    const id = await write('customer.updated', { customerId: (await createCustomer(ctx.prisma)).id });
    expect(await shop.outbox.sweep()).toBeGreaterThanOrEqual(1);
    await vi.waitFor(async () => expect((await ctx.prisma.outboxEvent.findUniqueOrThrow({ where: { id } })).status).toBe('delivered'), { timeout: 10_000, interval: 25 });
    expect(received.filter((r) => r.eventId === id)).toHaveLength(1);
    // Sweeping again finds nothing to do and sends nothing twice.
    await shop.outbox.sweep();
    expect(received.filter((r) => r.eventId === id)).toHaveLength(1);
  });

  it("carries the shop's own customer id and the phone beside Kabinet's customerId, and never logs the phone", async () => {
    const phone = '+79160000777';
    const customer = await createCustomer(ctx.prisma, { phone });
    await ctx.prisma.customer.update({ where: { id: customer.id }, data: { externalId: 'shop-cust-42' } });
    const id = await write('customer.updated', { customerId: customer.id, fields: ['firstName'], changes: { firstName: 'Вера' } });
    // Dead after three failures (logged), then sent again from the admin API: the log has had its chance.
    failuresLeft.set(id, 3);
    await shop.outbox.dispatch([id]);
    await vi.waitFor(async () => expect((await ctx.prisma.outboxEvent.findUniqueOrThrow({ where: { id } })).status).toBe('dead'), { timeout: 10_000, interval: 25 });
    await app.inject({ method: 'POST', url: `/api/admin/outbox/${id}/retry`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    await vi.waitFor(async () => expect((await ctx.prisma.outboxEvent.findUniqueOrThrow({ where: { id } })).status).toBe('delivered'), { timeout: 10_000, interval: 25 });

    const delivered = received.filter((r) => r.eventId === id).at(-1)!;
    expect(verifySignature({ secret: SECRET, header: delivered.signature, rawBody: delivered.body, toleranceSeconds: 300 })).toMatchObject({ ok: true });
    expect(JSON.parse(delivered.body).data).toEqual({ customerId: customer.id, customer: { externalId: 'shop-cust-42', phone }, fields: ['firstName'], changes: { firstName: 'Вера' } });
    // Log lines about the failed attempts are written from worker events, which may trail the row.
    await vi.waitFor(() => expect(logLines.some((l) => l.includes(id))).toBe(true), { timeout: 10_000, interval: 25 });
    expect(logLines.join('\n')).not.toContain('9160000777');
  });

  it('names no customer when the payload has a null customerId, and adds nothing to payloads without one', async () => {
    const support = await write('support.requested', { conversationId: 'c-2', customerId: null });
    const order = await write('repeat_order.requested', { orderId: 'o-2' });
    const rows = await ctx.prisma.outboxEvent.findMany({ where: { id: { in: [support, order] } } });
    expect(rows.find((r) => r.id === support)!.payload).toEqual({ conversationId: 'c-2', customerId: null, customer: null });
    expect(rows.find((r) => r.id === order)!.payload).toEqual({ orderId: 'o-2' });
  });

  it('backs off exponentially with jitter inside bounds', () => {
    expect(backoffDelay(1, 1000, 60_000, () => 0)).toBe(500);
    expect(backoffDelay(1, 1000, 60_000, () => 1)).toBe(1000);
    expect(backoffDelay(4, 1000, 60_000, () => 1)).toBe(8000);
    expect(backoffDelay(20, 1000, 60_000, () => 1)).toBe(60_000);
  });
});
