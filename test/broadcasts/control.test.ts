/**
 * Controlling a running broadcast at Telegram's free 30 messages/s (the fake enforces it):
 * pause stops sending within a second and resume finishes it, exactly once; cancel stops it
 * for good; identities that blocked the bot (Telegram 403, VK 901) are counted and marked;
 * an order-status notification sent during a broadcast goes out ahead of the broadcast's
 * remaining messages; a scheduled broadcast starts after a restart; the admin API refuses
 * a wrong bearer and bad input.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminApiPlugin } from '../../src/api/admin/plugin.js';
import { createBroadcastsFromInfra } from '../../src/broadcasts/index.js';
import { notifyCustomer } from '../../src/notifications/producer.js';
import { createNotificationDispatcher } from '../../src/notifications/send-queue.js';
import { buildApp, type App } from '../../src/server/app.js';
import { createOrder, createProduct } from '../support/factories.js';
import { ADMIN_TOKEN, TG_TOKEN, VK_GROUP, createBroadcastWorld, receivedCounts, seedAudience, startWorkersHere, type Audience, type BroadcastWorld, type InProcessWorkers } from './support.js';

let world: BroadcastWorld;
let app: App;
let workers: InProcessWorkers | undefined;
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

beforeAll(async () => {
  world = await createBroadcastWorld({ env: { TELEGRAM_RATE_LIMIT: '30', QUEUE_LOCK_DURATION_MS: '2000' } });
  app = await buildApp({ logger: world.ctx.logger, health: [], docs: false, plugins: [{ plugin: adminApiPlugin, options: { prefix: '/api/admin', token: ADMIN_TOKEN, outbox: { list: async () => [], retryDead: async () => null }, broadcasts: createBroadcastsFromInfra(world.ctx) } }] });
  workers = startWorkersHere(world, { telegramRate: 30 });
}, 60_000);
afterAll(async () => {
  await workers?.stop();
  await app?.close();
  await world?.close();
});

async function api(method: 'GET' | 'POST', url: string, payload?: unknown) {
  return app.inject({ method, url: `/api/admin${url}`, headers: auth, ...(payload !== undefined ? { payload: payload as object } : {}) });
}

async function broadcastTo(audience: Audience, extra: Record<string, unknown> = {}): Promise<string> {
  const customerIds = [...audience.telegram, ...audience.vk].map((p) => p.customerId);
  const res = await api('POST', '/broadcasts', { title: 'Promo', text: { ru: 'Скидка 10%', en: '10% off' }, segment: { customerIds }, ...extra });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}

const status = async (id: string) => (await api('GET', `/broadcasts/${id}`)).json();
const tgSendsTo = (audience: Audience) => {
  const chats = new Set(audience.telegram.map((p) => p.chatId));
  return world.tg.calls(TG_TOKEN).filter((c) => c.method === 'sendMessage' && c.status === 200 && chats.has(Number(c.params.chat_id)));
};

describe('a running broadcast', () => {
  it('pauses within a second and resumes to finish, each recipient once', async () => {
    const audience = await seedAudience(world, { telegram: 150, vk: 0 });
    const id = await broadcastTo(audience);
    expect((await api('POST', `/broadcasts/${id}/start`)).statusCode).toBe(200);
    await vi.waitFor(() => expect(tgSendsTo(audience).length).toBeGreaterThanOrEqual(20), { timeout: 20_000, interval: 50 });

    const paused = await api('POST', `/broadcasts/${id}/pause`);
    expect(paused.json().status).toBe('paused');
    const pausedAt = Date.now();
    await new Promise((r) => setTimeout(r, 2500));
    const late = tgSendsTo(audience).filter((c) => c.at > pausedAt + 1000);
    expect(late).toHaveLength(0);
    const during = await status(id);
    expect(during.status).toBe('paused');
    expect(during.pending).toBeGreaterThan(0);
    expect(during.sent).toBe(tgSendsTo(audience).length);

    expect((await api('POST', `/broadcasts/${id}/resume`)).json().status).toBe('sending');
    await vi.waitFor(async () => expect((await status(id)).status).toBe('sent'), { timeout: 30_000, interval: 200 });
    expect(await status(id)).toMatchObject({ total: 150, sent: 150, pending: 0 });
    const got = receivedCounts(world);
    for (const p of audience.telegram) expect(got.telegram.get(p.chatId)).toBe(1);
    expect(world.tg.calls(TG_TOKEN).filter((c) => c.status === 429)).toHaveLength(0);
  }, 60_000);

  it('cancels: nothing more goes out, the rest is skipped', async () => {
    const audience = await seedAudience(world, { telegram: 120, vk: 0 });
    const id = await broadcastTo(audience);
    await api('POST', `/broadcasts/${id}/start`);
    await vi.waitFor(() => expect(tgSendsTo(audience).length).toBeGreaterThanOrEqual(15), { timeout: 20_000, interval: 50 });
    const cancelled = await api('POST', `/broadcasts/${id}/cancel`);
    expect(cancelled.json().status).toBe('cancelled');
    const at = Date.now();
    await new Promise((r) => setTimeout(r, 2000));
    expect(tgSendsTo(audience).filter((c) => c.at > at + 1000)).toHaveLength(0);
    const s = await status(id);
    expect(s.pending).toBe(0);
    expect(s.sent).toBe(tgSendsTo(audience).length);
    expect(s.sent + s.skipped).toBe(120);
    expect(s.skipped).toBeGreaterThan(0);
    expect((await api('POST', `/broadcasts/${id}/resume`)).statusCode).toBe(409);
  }, 60_000);

  it('counts and marks identities that blocked the bot on either platform', async () => {
    const audience = await seedAudience(world, { telegram: 10, vk: 10 });
    const tgBlocked = audience.telegram.slice(0, 3);
    for (const p of tgBlocked) world.tg.blockBot(TG_TOKEN, p.chatId);
    const vkBlocked = audience.vk.slice(0, 4);
    for (const p of vkBlocked) world.vk.denyMessages(VK_GROUP, p.chatId);
    // One identity already known as blocked: skipped without a send.
    await world.ctx.prisma.channelIdentity.update({ where: { id: audience.telegram[9]!.identityId }, data: { blockedAt: new Date() } });

    const id = await broadcastTo(audience);
    await api('POST', `/broadcasts/${id}/start`);
    await vi.waitFor(async () => expect((await status(id)).status).toBe('sent'), { timeout: 20_000, interval: 200 });
    expect(await status(id)).toMatchObject({ total: 20, sent: 12, blocked: 8, failed: 0, pending: 0 });
    const marked = await world.ctx.prisma.channelIdentity.findMany({ where: { id: { in: [...tgBlocked, ...vkBlocked].map((p) => p.identityId) } }, select: { blockedAt: true } });
    expect(marked.every((m) => m.blockedAt !== null)).toBe(true);
    const rows = await world.ctx.prisma.broadcastDelivery.findMany({ where: { broadcastId: id, status: 'blocked' }, select: { identityId: true, error: true } });
    expect(rows.map((r) => r.identityId).sort()).toEqual([...tgBlocked, ...vkBlocked, audience.telegram[9]!].map((p) => p.identityId).sort());
    // A second broadcast does not even try them.
    const again = await broadcastTo(audience);
    const count = await api('POST', '/segments/count', { segment: { customerIds: [...audience.telegram, ...audience.vk].map((p) => p.customerId) } });
    expect(count.json()).toMatchObject({ customers: 12, blocked: 8 });
    void again;
  }, 60_000);

  it('lets an order-status notification overtake the broadcast on the same platform', async () => {
    const audience = await seedAudience(world, { telegram: 200, vk: 0 });
    const buyer = audience.telegram[199]!;
    const id = await broadcastTo({ telegram: audience.telegram.slice(0, 199), vk: [] });
    await api('POST', `/broadcasts/${id}/start`);
    await vi.waitFor(() => expect(tgSendsTo(audience).length).toBeGreaterThanOrEqual(30), { timeout: 20_000, interval: 50 });

    const product = await createProduct(world.ctx.prisma);
    const order = await createOrder(world.ctx.prisma, buyer.customerId, { items: [{ product, quantity: 1, price: 100 }], events: [{ status: 'shipped', occurredAt: new Date() }] });
    const event = await world.ctx.prisma.orderStatusEvent.findFirstOrThrow({ where: { orderId: order.id } });
    const pending = await world.ctx.prisma.$transaction((tx) => notifyCustomer(tx, { customerId: buyer.customerId, kind: 'order-status', cause: event.id, payload: { orderId: order.id, statusEventId: event.id, status: 'shipped' } }));
    const before = (await status(id)).pending;
    await createNotificationDispatcher({ prisma: world.ctx.prisma, queues: world.ctx.queues, logger: world.ctx.logger, sendAttempts: 3, sendBackoffMs: 50 }).dispatch(pending);
    await vi.waitFor(() => expect(world.tg.calls(TG_TOKEN).some((c) => c.status === 200 && Number(c.params.chat_id) === buyer.chatId)).toBe(true), { timeout: 20_000, interval: 20 });
    // It did not wait for the broadcast's queue: most of the broadcast was still to go.
    const left = (await status(id)).pending;
    expect(before).toBeGreaterThan(100);
    expect(left).toBeGreaterThan(before - 90);
    await vi.waitFor(async () => expect((await status(id)).status).toBe('sent'), { timeout: 30_000, interval: 200 });
    expect(world.tg.calls(TG_TOKEN).filter((c) => c.status === 429)).toHaveLength(0);
  }, 60_000);

  it('starts a scheduled broadcast on time after a restart', async () => {
    const audience = await seedAudience(world, { telegram: 5, vk: 5 });
    const at = new Date(Date.now() + 1500);
    const id = await broadcastTo(audience, { scheduledAt: at.toISOString() });
    expect((await api('POST', `/broadcasts/${id}/start`)).json().status).toBe('scheduled');
    // Every worker stops before the time comes...
    await workers!.stop();
    await new Promise((r) => setTimeout(r, 2000));
    expect((await status(id)).status).toBe('scheduled');
    // ...and the first one back starts it.
    workers = startWorkersHere(world, { telegramRate: 30 });
    await vi.waitFor(async () => expect((await status(id)).status).toBe('sent'), { timeout: 20_000, interval: 200 });
    expect(await status(id)).toMatchObject({ total: 10, sent: 10 });
    const row = await world.ctx.prisma.broadcast.findUniqueOrThrow({ where: { id } });
    expect(row.startedAt!.getTime()).toBeGreaterThanOrEqual(at.getTime());
  }, 60_000);
});

describe('the admin API', () => {
  it.each([
    ['no header', undefined],
    ['a wrong bearer', 'Bearer wrong-token-0123456789abcdef'],
  ])('refuses %s', async (_name, authorization) => {
    for (const [method, url] of [['POST', '/broadcasts'], ['GET', '/broadcasts'], ['POST', '/segments/count'], ['GET', '/broadcasts/0190a3b4-0000-7000-8000-000000000000/deliveries.csv']] as const) {
      const res = await app.inject({ method, url: `/api/admin${url}`, headers: authorization ? { authorization } : {}, ...(method === 'POST' ? { payload: {} } : {}) });
      expect(res.statusCode, url).toBe(401);
    }
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['no default-language text', { title: 't', text: { en: 'x' }, segment: {} }, 'text.ru'],
    ['an unknown placeholder', { title: 't', text: { ru: 'Привет, {name}' }, segment: {} }, 'text.ru'],
    ['a language the shop lacks', { title: 't', text: { ru: 'x', de: 'y' }, segment: {} }, 'text.de'],
    ['a javascript: button', { title: 't', text: { ru: 'x' }, buttons: [{ text: { ru: 'b' }, url: 'javascript:alert(1)' }], segment: {} }, 'buttons.0.url'],
    ['an unknown segment condition', { title: 't', text: { ru: 'x' }, segment: { everyone: true } }, 'segment.everyone'],
    ['a bad date', { title: 't', text: { ru: 'x' }, segment: {}, scheduledAt: 'tomorrow' }, 'scheduledAt'],
    ['a caption too long for a picture', { title: 't', text: { ru: 'x'.repeat(1500) }, imageUrl: 'https://shop.test/p.jpg', segment: {} }, 'text.ru'],
  ])('answers 400 to %s, naming the field', async (_name, payload, field) => {
    const res = await api('POST', '/broadcasts', payload);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().fields.map((f: { field: string }) => f.field)).toContain(field);
    expect(await world.ctx.prisma.broadcast.count({ where: { title: 't' } })).toBe(0);
  });

  it('answers 404 for an unknown broadcast and 409 for a wrong transition', async () => {
    expect((await api('GET', '/broadcasts/0190a3b4-0000-7000-8000-000000000000')).statusCode).toBe(404);
    expect((await api('GET', '/broadcasts/not-a-uuid')).statusCode).toBe(400);
    const audience = await seedAudience(world, { telegram: 1, vk: 0 });
    const id = await broadcastTo(audience);
    expect((await api('POST', `/broadcasts/${id}/pause`)).statusCode).toBe(409);
    expect((await api('POST', `/broadcasts/${id}/resume`)).statusCode).toBe(409);
    expect((await api('POST', `/broadcasts/${id}/start`)).statusCode).toBe(200);
    const twice = await api('POST', `/broadcasts/${id}/start`);
    expect(twice.statusCode).toBe(409);
    expect(twice.json().error).toBe('conflict');
    expect(await world.ctx.prisma.broadcastDelivery.count({ where: { broadcastId: id } })).toBe(1);
  });
});
