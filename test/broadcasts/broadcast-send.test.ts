/**
 * A 2,000-recipient broadcast across Telegram and VK against the fakes with their rate
 * limits on: every recipient accounted for exactly once (in the rows and at the fakes), no
 * 429 / VK error 6 provoked, VK batched (100 peers per messages.send, several per execute),
 * placeholders filled per customer, the staff group's progress message edited in place and
 * a final report; the admin API answers the same figures and the CSV.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminApiPlugin } from '../../src/api/admin/plugin.js';
import { createBroadcastsFromInfra } from '../../src/broadcasts/index.js';
import { buildApp, type App } from '../../src/server/app.js';
import { ADMIN_TOKEN, TG_TOKEN, STAFF_TOKEN, VK_GROUP, createBroadcastWorld, receivedCounts, seedAudience, startWorkersHere, type Audience, type BroadcastWorld, type InProcessWorkers } from './support.js';

let world: BroadcastWorld;
let app: App;
let workers: InProcessWorkers;
let audience: Audience;
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

beforeAll(async () => {
  world = await createBroadcastWorld({ env: { TELEGRAM_PAID_BROADCAST: 'true', BROADCAST_PROGRESS_INTERVAL_MS: '1000' } });
  app = await buildApp({ logger: world.ctx.logger, health: [], docs: false, plugins: [{ plugin: adminApiPlugin, options: { prefix: '/api/admin', token: ADMIN_TOKEN, outbox: { list: async () => [], retryDead: async () => null }, broadcasts: createBroadcastsFromInfra(world.ctx) } }] });
  audience = await seedAudience(world, { telegram: 1200, vk: 800 });
  workers = startWorkersHere(world, { paid: true });
}, 60_000);
afterAll(async () => {
  await workers?.stop();
  await app?.close();
  await world?.close();
});

describe('a broadcast to 2,000 customers on Telegram and VK', () => {
  it('reaches each exactly once, with no 429, and reports progress', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/api/admin/broadcasts',
      headers: auth,
      payload: { title: 'Winter sale', text: { ru: 'Распродажа для уровня «{tier}»!', en: 'A sale for {tier} tier!' }, buttons: [{ text: { ru: 'В магазин', en: 'Shop' }, url: 'https://shop.test/sale' }], segment: {} },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ status: 'draft', recipients: 2000 });
    const id = created.json().id as string;

    const started = await app.inject({ method: 'POST', url: `/api/admin/broadcasts/${id}/start`, headers: auth });
    expect(started.statusCode, started.body).toBe(200);
    expect(started.json()).toMatchObject({ status: 'sending', total: 2000 });

    await vi.waitFor(async () => {
      const res = await app.inject({ method: 'GET', url: `/api/admin/broadcasts/${id}`, headers: auth });
      expect(res.json().status).toBe('sent');
    }, { timeout: 90_000, interval: 250 });

    const figures = (await app.inject({ method: 'GET', url: `/api/admin/broadcasts/${id}`, headers: auth })).json();
    expect(figures).toMatchObject({ total: 2000, pending: 0, sent: 2000, failed: 0, blocked: 0, skipped: 0 });
    expect(figures.startedAt).toBeTruthy();
    expect(figures.finishedAt).toBeTruthy();

    // At the fakes: exactly one message per recipient, no refusals for speed.
    const got = receivedCounts(world);
    for (const p of audience.telegram) expect(got.telegram.get(p.chatId), `telegram ${p.chatId}`).toBe(1);
    for (const p of audience.vk) expect(got.vk.get(p.chatId), `vk ${p.chatId}`).toBe(1);
    expect(world.tg.calls(TG_TOKEN).filter((c) => c.status === 429)).toHaveLength(0);
    const vkCalls = world.vk.calls(VK_GROUP);
    expect(vkCalls.filter((c) => c.error?.error_code === 6)).toHaveLength(0);
    // VK: 8 messages.send of 100 peers, inside execute requests (not 800 requests).
    const sends = vkCalls.filter((c) => c.method === 'messages.send' && c.viaExecute);
    expect(sends.length).toBeLessThanOrEqual(8 + 2);
    expect(Math.max(...sends.map((c) => c.params.peer_ids!.split(',').length))).toBe(100);
    expect(vkCalls.filter((c) => c.method === 'execute').length).toBeLessThan(8);

    // The placeholder in the customer's language, plain text, the link button.
    const first = audience.telegram[0]!;
    const msg = world.tg.lastBotMessage(TG_TOKEN, first.chatId)!;
    expect(msg.text).toBe('Распродажа для уровня «участник программы»!');
    expect(world.vk.conversation(VK_GROUP, audience.vk[0]!.chatId).messages.at(-1)!.text).toBe('Распродажа для уровня «участник программы»!');
    expect(msg.reply_markup?.inline_keyboard?.[0]?.[0]).toMatchObject({ text: 'В магазин', url: 'https://shop.test/sale' });

    // The staff group: one progress message, edited in place, ending with the final report.
    await vi.waitFor(() => {
      const staff = world.tg.chat(STAFF_TOKEN, world.staffChat).filter((e) => e.message?.from?.is_bot);
      expect(staff).toHaveLength(1);
      expect(staff[0]!.message!.text).toContain('2000');
      expect(staff[0]!.message!.text).toMatch(/Итог|Done/);
    }, { timeout: 10_000, interval: 200 });

    // The CSV: a header and one row per recipient.
    const csv = await app.inject({ method: 'GET', url: `/api/admin/broadcasts/${id}/deliveries.csv`, headers: auth });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.body.trim().split('\n');
    expect(lines[0]).toBe('customer_id,platform,status,error,sent_at');
    expect(lines).toHaveLength(2001);
    expect(new Set(lines.slice(1).map((l) => l.split(',')[0])).size).toBe(2000);
    expect(lines.filter((l) => l.includes(',vk,sent,'))).toHaveLength(800);

    const list = await app.inject({ method: 'GET', url: '/api/admin/broadcasts', headers: auth });
    expect(list.json().items.map((b: { id: string }) => b.id)).toContain(id);
  }, 120_000);
});
