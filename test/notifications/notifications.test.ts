/**
 * Status changes and alerts through the real pipeline: shop API → Notification rows → the
 * per-platform send queue → the send worker → the fake Telegram Bot API over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Worker } from 'bullmq';
import { createFakeTelegram, type FakeTelegram } from '../../src/fakes/telegram/index.js';
import { createTelegramSender } from '../../src/channels/telegram-sender.js';
import type { OutboundCall, OutboundSender, Platform } from '../../src/channels/outbound.js';
import { QueueName } from '../../src/queues/names.js';
import type { App } from '../../src/server/app.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { createProduct } from '../support/factories.js';
import { buildShopApp, signedPost } from '../api/shop/helpers.js';
import { customerInTelegram, sentTo } from './support.js';
import { startTestSendWorkers } from '../support/send-workers.js';

const TOKEN = '7000001:AAtest_notifications_token_xx';
let ctx: TestContext;
let fake: FakeTelegram;
let app: App;
let workers: Worker[];
const vkCalls: OutboundCall[] = [];

beforeAll(async () => {
  ctx = await createTestContext({ env: { NOTIFICATION_SEND_BACKOFF_MS: '50' } });
  fake = createFakeTelegram();
  const apiRoot = await fake.listen();
  fake.createBot({ token: TOKEN, username: 'kabinet_test_bot' });
  let shop: Awaited<ReturnType<typeof buildShopApp>>['shop'];
  ({ app, shop } = await buildShopApp(ctx));
  // Stock alerts are fanned out by their own worker, outside the shop's request.
  ctx.queues.worker(QueueName.alertFanout, shop.fanouts.processor);
  // VK's real sender comes with the bridge (issue 5); a recording one proves the seam.
  const vkSender: OutboundSender = { platform: 'vk', send: async (call) => { vkCalls.push(call); return { messageId: String(vkCalls.length) }; } };
  workers = startTestSendWorkers(ctx, {
    senders: new Map<Platform, OutboundSender>([['telegram', createTelegramSender({ token: TOKEN, apiRoot })], ['vk', vkSender]]),
    lockDurationMs: 2000,
  });
});
afterAll(async () => {
  await app?.close();
  await ctx?.close();
  await fake?.close();
});

let seq = 0;
async function placeOrder(customerPhone: string, extra: Record<string, unknown> = {}) {
  const number = `N-${++seq}`;
  const res = await signedPost(app, '/api/v1/orders', {
    eventId: `order-${number}`,
    order: { number, customerPhone, status: 'paid', itemsTotal: 2500, total: 2500, placedAt: '2026-02-01T10:00:00Z', items: [{ sku: 'S-1', name: 'Чайник', quantity: 1, price: 2500 }], ...extra },
  });
  expect(res.statusCode).toBe(200);
  return number;
}

const settled = (where: object) => vi.waitFor(async () => {
  expect(await ctx.prisma.notification.count({ where: { ...where, status: 'pending' } })).toBe(0);
}, { timeout: 15_000, interval: 50 });

describe('order status notifications', () => {
  it('reaches the customer in Russian and in English, with the order card, the tracking link and an open-order button', async () => {
    const ru = await customerInTelegram(ctx.prisma, fake, TOKEN, { language: 'ru' });
    const en = await customerInTelegram(ctx.prisma, fake, TOKEN, { language: 'en', name: 'John' });
    for (const who of [ru, en]) {
      const number = await placeOrder(who.customer.phone);
      const res = await signedPost(app, `/api/v1/orders/${number}/status`, { eventId: `ship-${number}`, status: 'shipped', occurredAt: '2026-02-02T10:00:00Z', carrier: 'CDEK', trackingNumber: 'TRK-1', trackingUrl: 'https://track.example/TRK-1' });
      expect(res.statusCode).toBe(200);
    }
    await settled({ customerId: { in: [ru.customer.id, en.customer.id] } });

    const ruTexts = sentTo(fake, TOKEN, ru.user.id).map((c) => String(c.params.text));
    const enTexts = sentTo(fake, TOKEN, en.user.id).map((c) => String(c.params.text));
    // "created" is not sent for a new "paid" order: paid is announced, then shipped.
    expect(ruTexts).toHaveLength(2);
    expect(enTexts).toHaveLength(2);
    expect(ruTexts.some((t) => t.includes('Заказ передан в доставку') && t.includes('TRK-1') && t.includes('Заказ №'))).toBe(true);
    expect(enTexts.some((t) => t.includes('Your order has been shipped') && t.includes('Order #'))).toBe(true);
    const shippedCall = sentTo(fake, TOKEN, en.user.id).find((c) => String(c.params.text).includes('shipped'))!;
    const keyboard = (shippedCall.params.reply_markup as { inline_keyboard: Array<Array<{ text: string; url?: string; callback_data?: string }>> }).inline_keyboard.flat();
    expect(keyboard.find((b) => b.url === 'https://track.example/TRK-1')?.text).toBe('Track parcel');
    expect(keyboard.find((b) => b.callback_data?.startsWith('o:card:'))?.text).toBe('Open order');
    const row = await ctx.prisma.notification.findFirstOrThrow({ where: { customerId: en.customer.id, kind: 'order-status', status: 'sent' } });
    expect(row.externalMessageId).not.toBeNull();
    expect(row.sendingAt).toBeNull();
    // Written as the moment it was sent (UTC, as Prisma writes every other timestamp).
    expect(Math.abs(row.sentAt!.getTime() - Date.now())).toBeLessThan(60_000);
    expect(row.updatedAt.getTime()).toBe(row.sentAt!.getTime());
    expect(row.attempts).toBe(1);
  });

  it('notifies once when the shop replays the event', async () => {
    const who = await customerInTelegram(ctx.prisma, fake, TOKEN);
    const number = await placeOrder(who.customer.phone);
    const change = { eventId: `replay-${number}`, status: 'assembling', occurredAt: '2026-02-02T10:00:00Z' };
    expect((await signedPost(app, `/api/v1/orders/${number}/status`, change)).json().duplicate).toBe(false);
    expect((await signedPost(app, `/api/v1/orders/${number}/status`, change)).json().duplicate).toBe(true);
    expect((await signedPost(app, `/api/v1/orders/${number}/status`, change)).json().duplicate).toBe(true);
    await settled({ customerId: who.customer.id });
    const texts = sentTo(fake, TOKEN, who.user.id).map((c) => String(c.params.text)).filter((t) => t.includes('Заказ собирается'));
    expect(texts).toHaveLength(1);
    expect(await ctx.prisma.notification.count({ where: { customerId: who.customer.id, kind: 'order-status' } })).toBe(2);
  });

  it('reaches every linked identity (Telegram and VK), and none when order updates are off', async () => {
    const who = await customerInTelegram(ctx.prisma, fake, TOKEN);
    await ctx.prisma.channelIdentity.create({ data: { platform: 'vk', externalId: '5550001', chatId: '5550001', customerId: who.customer.id } });
    const number = await placeOrder(who.customer.phone);
    await settled({ customerId: who.customer.id });
    expect(sentTo(fake, TOKEN, who.user.id)).toHaveLength(1);
    expect(vkCalls.filter((c) => c.payload.chat_id === '5550001')).toHaveLength(1);

    await ctx.prisma.customer.update({ where: { id: who.customer.id }, data: { notifyOrderUpdates: false } });
    await signedPost(app, `/api/v1/orders/${number}/status`, { eventId: `quiet-${number}`, status: 'shipped', occurredAt: '2026-02-03T10:00:00Z' });
    expect(await ctx.prisma.notification.count({ where: { customerId: who.customer.id } })).toBe(2);
  });
});

describe('platform refusals', () => {
  it('waits out a 429 for retry_after and still delivers the message', async () => {
    const who = await customerInTelegram(ctx.prisma, fake, TOKEN);
    fake.failNext(TOKEN, 'sendMessage', { errorCode: 429, description: 'Too Many Requests: retry after 1', retryAfter: 1, chatId: who.user.id });
    await placeOrder(who.customer.phone);
    await settled({ customerId: who.customer.id });
    const calls = fake.calls(TOKEN).filter((c) => c.method === 'sendMessage' && String(c.params.chat_id) === String(who.user.id));
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
    // Behaviour, not speed: from the fake's recorded call times, the retry came no earlier
    // than retry_after (a lower bound only, so a slow machine cannot fail it).
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(1000);
    const row = await ctx.prisma.notification.findFirstOrThrow({ where: { customerId: who.customer.id } });
    expect(row.status).toBe('sent');
    // A 429 proves nothing went out: it spends no attempt.
    expect(row.attempts).toBe(1);
  });

  it('marks the identity blocked on 403 and stops sending to it', async () => {
    const who = await customerInTelegram(ctx.prisma, fake, TOKEN);
    fake.blockBot(TOKEN, who.user.id);
    const number = await placeOrder(who.customer.phone);
    await settled({ customerId: who.customer.id });
    const row = await ctx.prisma.notification.findFirstOrThrow({ where: { customerId: who.customer.id } });
    expect(row.status).toBe('blocked');
    expect(row.error).toContain('blocked by the user');
    expect((await ctx.prisma.channelIdentity.findUniqueOrThrow({ where: { id: who.identity.id } })).blockedAt).not.toBeNull();
    // Later events write nothing for the blocked identity and call nothing.
    await signedPost(app, `/api/v1/orders/${number}/status`, { eventId: `blocked-${number}`, status: 'shipped', occurredAt: '2026-02-03T10:00:00Z' });
    expect(await ctx.prisma.notification.count({ where: { customerId: who.customer.id } })).toBe(1);
    expect(fake.calls(TOKEN).filter((c) => c.method === 'sendMessage' && String(c.params.chat_id) === String(who.user.id))).toHaveLength(1);
  });

  it('does not retry 400 chat not found', async () => {
    const who = await customerInTelegram(ctx.prisma, fake, TOKEN);
    await ctx.prisma.channelIdentity.update({ where: { id: who.identity.id }, data: { chatId: '987654321' } });
    await placeOrder(who.customer.phone);
    await settled({ customerId: who.customer.id });
    const row = await ctx.prisma.notification.findFirstOrThrow({ where: { customerId: who.customer.id } });
    expect(row.status).toBe('failed');
    expect(row.error).toContain('chat not found');
    expect(row.attempts).toBe(1);
    expect(fake.calls(TOKEN).filter((c) => String(c.params.chat_id) === '987654321')).toHaveLength(1);
  });

  it('retries a transient 500 and delivers', async () => {
    const who = await customerInTelegram(ctx.prisma, fake, TOKEN);
    fake.failNext(TOKEN, 'sendMessage', { errorCode: 500, description: 'Internal Server Error', chatId: who.user.id, times: 2 });
    await placeOrder(who.customer.phone);
    await settled({ customerId: who.customer.id });
    const row = await ctx.prisma.notification.findFirstOrThrow({ where: { customerId: who.customer.id } });
    expect(row.status).toBe('sent');
    expect(row.attempts).toBe(3);
  });
});

describe('stock alerts', () => {
  it('tells subscribers when a product is back in stock (once) and when its price drops', async () => {
    const who = await customerInTelegram(ctx.prisma, fake, TOKEN, { language: 'en' });
    const p = await createProduct(ctx.prisma, { sku: 'ALERT-1', name: 'Чайник', nameEn: 'Kettle', stock: 0, price: 3000 });
    await ctx.prisma.productAlert.createMany({ data: [
      { customerId: who.customer.id, productId: p.id, kind: 'back_in_stock' },
      { customerId: who.customer.id, productId: p.id, kind: 'price_drop', basePrice: 3000 },
    ] });
    const upsert = (eventId: string, stock: number, price: number) => signedPost(app, '/api/v1/products', { eventId, product: { sku: 'ALERT-1', name: 'Чайник', nameEn: 'Kettle', stock, price } });
    await upsert('p-1', 5, 3000);
    await upsert('p-2', 0, 3000);
    await upsert('p-3', 7, 3000); // the alert was one-shot
    await upsert('p-4', 7, 2500);
    // The drop is announced by the worker; once it has been, a rise changes nothing.
    await vi.waitFor(async () => expect(await ctx.prisma.alertFanout.count({ where: { finishedAt: null } })).toBe(0), { timeout: 15_000, interval: 50 });
    await upsert('p-5', 7, 2600); // up again: nothing
    await settled({ customerId: who.customer.id });
    const texts = sentTo(fake, TOKEN, who.user.id).map((c) => String(c.params.text));
    expect(texts.filter((t) => t.includes('Back in stock: Kettle'))).toHaveLength(1);
    expect(texts.filter((t) => t.includes('Price dropped: Kettle'))).toHaveLength(1);
  });
});
