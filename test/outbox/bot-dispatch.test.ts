/**
 * Webhooks written by the bot's domain services leave right after their transaction commits:
 * no sweeper runs in this file (and its interval is a day), so only the dispatcher that the
 * Telegram channel threads into the services can deliver them.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { menuCb, profileCb } from '../../src/bot/keyboards/index.js';
import { verifySignature } from '../../src/lib/signature.js';
import { createOutboxFromInfra } from '../../src/outbox/outbox.js';
import { QueueName } from '../../src/queues/names.js';
import { createCustomer } from '../support/factories.js';
import { createHarness, person, type Harness } from '../bot/harness.js';

const SECRET = 'test-shop-secret-0123456789';
interface Received { body: string; signature: string | undefined; type: string | undefined }
const received: Received[] = [];
let server: Server;
let h: Harness;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ body, signature: req.headers['kabinet-signature'] as string | undefined, type: req.headers['kabinet-event-type'] as string | undefined });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/kabinet-webhook`;
  h = await createHarness({ env: { SHOP_WEBHOOK_URL: url, SHOP_API_SECRET: SECRET, OUTBOX_SWEEP_INTERVAL_MS: String(24 * 3600 * 1000) } });
  await h.startInstance();
  // The outbox delivery worker alone: no maintenance queue, so no sweeper.
  h.ctx.queues.worker(QueueName.outbox, createOutboxFromInfra(h.ctx).processor, { concurrency: 2 });
});
afterAll(async () => {
  await h?.close();
  await new Promise((r) => server?.close(r));
});

describe('outbox: bot writes are dispatched after commit', () => {
  it('delivers a profile change made in the bot to the shop, signed, without the sweeper', async () => {
    const phone = '+79160000301';
    const customer = await createCustomer(h.ctx.prisma, { phone, firstName: 'Вера', language: 'ru' });
    const p = person(h, { firstName: 'Vera', languageCode: 'ru' });
    await p.say('/start');
    await p.press(menuCb.encode('login'));
    await p.shareContact({ phone, firstName: 'Vera' });
    await p.press(profileCb.encode('show'));
    await p.press(profileCb.encode('notify', { kind: 'orders', on: false }));

    const updates = () => received.filter((r) => r.type === 'customer.updated').map((r) => ({ ...r, json: JSON.parse(r.body) }));
    await vi.waitFor(() => expect(updates().some((u) => u.json.data.fields.includes('notifyOrderUpdates'))).toBe(true), { timeout: 10_000, interval: 25 });
    const update = updates().find((u) => u.json.data.fields.includes('notifyOrderUpdates'))!;
    expect(update.json).toMatchObject({ type: 'customer.updated', data: { customerId: customer.id, fields: ['notifyOrderUpdates'], changes: { notifyOrderUpdates: false } } });
    expect(verifySignature({ secret: SECRET, header: update.signature, rawBody: update.body, toleranceSeconds: 300 })).toMatchObject({ ok: true });
    // The worker records the delivery after the shop answered, so the row may lag the request.
    await vi.waitFor(async () => expect((await h.ctx.prisma.outboxEvent.findUniqueOrThrow({ where: { id: update.json.id } })).status).toBe('delivered'), { timeout: 10_000, interval: 25 });
    // The login link went out the same way.
    await vi.waitFor(() => expect(received.some((r) => r.type === 'customer.linked' && JSON.parse(r.body).data.customerId === customer.id)).toBe(true), { timeout: 10_000, interval: 25 });
  });
});
