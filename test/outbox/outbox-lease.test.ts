/**
 * The outbox against a slow shop endpoint (issue 14.4), secret rotation for webhooks (14.8)
 * and the test webhook (14.9).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { verifySignature } from '../../src/lib/signature.js';
import { enqueueOutbox } from '../../src/outbox/enqueue.js';
import { QueueName } from '../../src/queues/names.js';
import type { App } from '../../src/server/app.js';
import type { ShopServices } from '../../src/shop-services.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { buildShopApp, signedPost } from '../api/shop/helpers.js';

const OLD = 'old-webhook-secret-0123456789';
const NEW = 'new-webhook-secret-9876543210';
interface Received { body: string; signature: string; eventId: string }
let ctx: TestContext;
let server: Server;
let app: App;
let shop: ShopServices;
const received: Received[] = [];
/** Per event id: how long to hold the answer, and which status to give. */
const behaviour = new Map<string, { delayMs: number; status: number }>();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const eventId = req.headers['kabinet-event-id'] as string;
      received.push({ body, signature: req.headers['kabinet-signature'] as string, eventId });
      const b = behaviour.get(eventId) ?? { delayMs: 0, status: 200 };
      setTimeout(() => res.writeHead(b.status).end('x'), b.delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  // The first backoff (50 ms) is far shorter than the timeout: the case that used to send twice.
  ctx = await createTestContext({ env: { SHOP_WEBHOOK_URL: url, SHOP_API_SECRET: 'api-secret-0123456789abc', SHOP_WEBHOOK_SECRET: `${OLD},${NEW}`, OUTBOX_MAX_ATTEMPTS: '5', OUTBOX_BACKOFF_BASE_MS: '50', OUTBOX_BACKOFF_MAX_MS: '100', OUTBOX_TIMEOUT_MS: '3000' } });
  ({ app, shop } = await buildShopApp(ctx));
  ctx.queues.worker(QueueName.outbox, shop.outbox.processor, { concurrency: 4 });
});
afterAll(async () => {
  await app?.close();
  await ctx?.close();
  await new Promise((r) => server.close(r));
});

const write = () => ctx.prisma.$transaction((tx) => enqueueOutbox(tx, 'support.requested', { conversationId: 'c', messageId: 'm', customerId: null, platform: 'telegram', text: 'hi', attachments: [], reused: false }));
const row = (id: string) => ctx.prisma.outboxEvent.findUniqueOrThrow({ where: { id } });

describe('an attempt owns its row until it ends', () => {
  it('does not start a second attempt while a slow endpoint holds the first', async () => {
    const id = await write();
    behaviour.set(id, { delayMs: 1200, status: 200 });
    await shop.outbox.dispatch([id]);
    await vi.waitFor(() => expect(received.some((r) => r.eventId === id)).toBe(true), { timeout: 10_000, interval: 20 });
    // The sweeper runs while the POST is open, again and again: it must leave the row alone.
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 150));
      await shop.outbox.sweep();
    }
    await vi.waitFor(async () => expect((await row(id)).status).toBe('delivered'), { timeout: 10_000, interval: 25 });
    await new Promise((r) => setTimeout(r, 300));
    expect(received.filter((r) => r.eventId === id)).toHaveLength(1);
    expect(await row(id)).toMatchObject({ status: 'delivered', attempts: 1, lastError: null });
  });

  it('never lets a late failure overwrite a newer outcome', async () => {
    const id = await write();
    behaviour.set(id, { delayMs: 800, status: 503 });
    await shop.outbox.dispatch([id]);
    await vi.waitFor(() => expect(received.some((r) => r.eventId === id)).toBe(true), { timeout: 10_000, interval: 20 });
    // Meanwhile a newer attempt (another process, after a stall) delivered it.
    await ctx.prisma.outboxEvent.update({ where: { id }, data: { status: 'delivered', attempts: 2, deliveredAt: new Date(), lastStatusCode: 200 } });
    await new Promise((r) => setTimeout(r, 1500));
    expect(await row(id)).toMatchObject({ status: 'delivered', attempts: 2, lastStatusCode: 200, lastError: null });
  });
});

describe('webhook secrets', () => {
  it('signs with each webhook secret while the shop rotates, and not with the API secret', async () => {
    const id = await write();
    await shop.outbox.dispatch([id]);
    await vi.waitFor(async () => expect((await row(id)).status).toBe('delivered'), { timeout: 10_000, interval: 25 });
    const got = received.find((r) => r.eventId === id)!;
    expect(got.signature.match(/v1=/g)).toHaveLength(2);
    for (const secret of [OLD, NEW]) expect(verifySignature({ secret, header: got.signature, rawBody: got.body, toleranceSeconds: 300 }).ok).toBe(true);
    expect(verifySignature({ secret: 'api-secret-0123456789abc', header: got.signature, rawBody: got.body, toleranceSeconds: 300 }).ok).toBe(false);
  });
});

describe('POST /api/v1/webhooks/test', () => {
  it('sends a signed webhook.test now and reports what the endpoint answered, storing nothing', async () => {
    const rowsBefore = await ctx.prisma.outboxEvent.count();
    const res = await signedPost(app, '/api/v1/webhooks/test', {});
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ok: true, delivered: true, statusCode: 200, error: null, eventId: expect.any(String) });
    const got = received.find((r) => r.eventId === res.json().eventId)!;
    expect(JSON.parse(got.body)).toMatchObject({ id: res.json().eventId, type: 'webhook.test', data: { message: expect.any(String) } });
    expect(verifySignature({ secret: NEW, header: got.signature, rawBody: got.body, toleranceSeconds: 300 }).ok).toBe(true);
    expect(await ctx.prisma.outboxEvent.count()).toBe(rowsBefore);
  });

  it('reports a failing endpoint as not delivered, with its status', async () => {
    // The id is random: fail every request until this one is seen.
    const original = behaviour.get.bind(behaviour);
    behaviour.get = (k: string) => original(k) ?? { delayMs: 0, status: 500 };
    try {
      const res = await signedPost(app, '/api/v1/webhooks/test', { eventId: 'check-1' });
      expect(res.json()).toMatchObject({ ok: false, delivered: false, statusCode: 500, error: 'HTTP 500' });
    } finally {
      behaviour.get = original;
    }
    expect((await signedPost(app, '/api/v1/webhooks/test', { unknown: 1 })).statusCode).toBe(400);
  });
});
