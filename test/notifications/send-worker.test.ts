/**
 * The send worker's edges: a notification that fails before it is claimed (its render
 * throws) is failed after its attempts instead of being re-queued forever, and a 429 for
 * one Telegram chat holds that chat only, not the whole queue; an order status whose event is
 * gone, or whose payload names no event, is skipped (the worker reads the event with the row).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Worker } from 'bullmq';
import { createChatPacer } from '../../src/channels/chat-pacing.js';
import type { OutboundSender, Platform } from '../../src/channels/outbound.js';
import { createTelegramSender } from '../../src/channels/telegram-sender.js';
import { createFakeTelegram, type FakeTelegram } from '../../src/fakes/telegram/index.js';
import type { Prisma } from '../../src/generated/prisma/client.js';
import { notifyCustomer, type PendingNotification } from '../../src/notifications/producer.js';
import { createNotificationRenderer, type NotificationRenderer } from '../../src/notifications/render.js';
import { createNotificationDispatcher } from '../../src/notifications/send-queue.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { createOrder, createProduct } from '../support/factories.js';
import { customerInTelegram, sentTo } from './support.js';
import { startTestSendWorkers } from '../support/send-workers.js';

const TOKEN = '7000003:AAtest_send_worker_token_xxxx';
const ATTEMPTS = 3;
let ctx: TestContext;
let fake: FakeTelegram;
let workers: Worker[];
let dispatcher: ReturnType<typeof createNotificationDispatcher>;

beforeAll(async () => {
  ctx = await createTestContext();
  fake = createFakeTelegram();
  const apiRoot = await fake.listen();
  fake.createBot({ token: TOKEN, username: 'kabinet_send_bot' });
  const real = createNotificationRenderer({ prisma: ctx.prisma, translator: ctx.translator });
  // Loyalty renders fail here, as a broken template or a missing row would.
  const render: NotificationRenderer = async (input) => {
    if (input.kind === 'points-credited') throw new Error('template exploded');
    return real(input);
  };
  dispatcher = createNotificationDispatcher({ prisma: ctx.prisma, queues: ctx.queues, logger: ctx.logger, sendAttempts: ATTEMPTS, sendBackoffMs: 10 });
  workers = startTestSendWorkers(ctx, {
    render,
    senders: new Map<Platform, OutboundSender>([['telegram', createTelegramSender({ token: TOKEN, apiRoot })]]),
    pacers: { telegram: createChatPacer({ redis: ctx.redis, prefix: `${ctx.config.redisKeyPrefix}pace:` }) },
    lockDurationMs: 2000,
  });
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  await ctx?.close();
  await fake?.close();
});

async function orderShipped(customerId: string): Promise<PendingNotification[]> {
  const product = await createProduct(ctx.prisma);
  const order = await createOrder(ctx.prisma, customerId, { items: [{ product, quantity: 1, price: 100 }], events: [{ status: 'shipped', occurredAt: new Date() }] });
  const event = await ctx.prisma.orderStatusEvent.findFirstOrThrow({ where: { orderId: order.id } });
  return ctx.prisma.$transaction((tx) => notifyCustomer(tx, { customerId, kind: 'order-status', cause: event.id, payload: { orderId: order.id, statusEventId: event.id, status: 'shipped' } }));
}

describe('a notification that fails before it is sent', () => {
  it('is failed with the error after its attempts, and the sweeper does not bring it back', async () => {
    const who = await customerInTelegram(ctx.prisma, fake, TOKEN);
    const pending = await ctx.prisma.$transaction((tx) => notifyCustomer(tx, { customerId: who.customer.id, kind: 'points-credited', cause: 'ledger-1', payload: { points: 10 } }));
    expect(pending).toHaveLength(1);
    await dispatcher.dispatch(pending);
    await vi.waitFor(async () => expect(await ctx.prisma.notification.findUniqueOrThrow({ where: { id: pending[0]!.id } })).toMatchObject({ status: 'failed' }), { timeout: 15_000, interval: 50 });
    const row = await ctx.prisma.notification.findUniqueOrThrow({ where: { id: pending[0]!.id } });
    expect(row.attempts).toBe(ATTEMPTS);
    expect(row.error).toContain('template exploded');
    expect(row.sendingAt).toBeNull();

    expect(await dispatcher.sweep(new Date(Date.now() + 60_000))).toBe(0);
    expect(await ctx.prisma.notification.findUniqueOrThrow({ where: { id: row.id } })).toMatchObject({ status: 'failed', attempts: ATTEMPTS });
    expect(sentTo(fake, TOKEN, who.user.id)).toHaveLength(0);
  });

  it('a row left pending after its job failed for good is failed by the sweeper, not re-queued', async () => {
    const who = await customerInTelegram(ctx.prisma, fake, TOKEN);
    const [row] = await ctx.prisma.$transaction((tx) => notifyCustomer(tx, { customerId: who.customer.id, kind: 'points-credited', cause: 'ledger-2', payload: { points: 5 } }));
    // As if the worker died after the job's last failure but before it could record it.
    await ctx.prisma.notification.update({ where: { id: row!.id }, data: { attempts: ATTEMPTS } });
    const queue = dispatcher.queueFor('telegram');
    await queue.add('not-a-notification', { notificationId: row!.id }, { jobId: row!.id, attempts: 1 });
    await vi.waitFor(async () => expect(await (await queue.getJob(row!.id))!.getState()).toBe('failed'), { timeout: 10_000, interval: 50 });

    expect(await dispatcher.sweep(new Date(Date.now() + 60_000))).toBe(0);
    const after = await ctx.prisma.notification.findUniqueOrThrow({ where: { id: row!.id } });
    expect(after.status).toBe('failed');
    expect(after.error).toContain(`gave up after ${ATTEMPTS} attempts`);
    expect(after.error).toContain('unknown job');
  });
});

describe('a 429 for one Telegram chat', () => {
  it('holds that chat for retry_after while every other chat is served', async () => {
    const busy = await customerInTelegram(ctx.prisma, fake, TOKEN);
    const others = [];
    for (let i = 0; i < 8; i++) others.push(await customerInTelegram(ctx.prisma, fake, TOKEN));
    fake.failNext(TOKEN, 'sendMessage', { errorCode: 429, description: 'Too Many Requests: retry after 4', retryAfter: 4, chatId: busy.user.id });
    const first = await orderShipped(busy.customer.id);
    await dispatcher.dispatch(first);
    await vi.waitFor(() => expect(fake.calls(TOKEN).some((c) => String(c.params.chat_id) === String(busy.user.id) && c.status === 429)).toBe(true), { timeout: 10_000, interval: 20 });
    const rest: PendingNotification[] = [];
    for (const who of others) rest.push(...(await orderShipped(who.customer.id)));
    await dispatcher.dispatch(rest);

    await vi.waitFor(async () => expect(await ctx.prisma.notification.count({ where: { id: { in: [...first, ...rest].map((n) => n.id) }, status: 'pending' } })).toBe(0), { timeout: 20_000, interval: 50 });
    const [refused, delivered] = fake.calls(TOKEN).filter((c) => c.method === 'sendMessage' && String(c.params.chat_id) === String(busy.user.id));
    expect(refused!.status).toBe(429);
    expect(delivered!.status).toBe(200);
    // The busy chat waited out its retry_after (a lower bound from the fake's own clock) ...
    expect(delivered!.at - refused!.at).toBeGreaterThanOrEqual(4000);
    // ... and nobody else waited for it: every other chat got its message before the retry.
    for (const who of others) {
      const [sent] = sentTo(fake, TOKEN, who.user.id);
      expect(sent, `chat ${who.user.id}`).toBeDefined();
      expect(sent!.at).toBeLessThan(delivered!.at);
    }
    expect(fake.calls(TOKEN).filter((c) => c.status === 429)).toHaveLength(1);
  });
});

describe('one chat with many messages at once', () => {
  it('gets them about one per second (no 429 from the per-chat limit) while other chats are not held up', async () => {
    const busy = await customerInTelegram(ctx.prisma, fake, TOKEN);
    const others = [];
    for (let i = 0; i < 8; i++) others.push(await customerInTelegram(ctx.prisma, fake, TOKEN));
    const burst: PendingNotification[] = [];
    for (let i = 0; i < 6; i++) burst.push(...(await orderShipped(busy.customer.id)));
    await dispatcher.dispatch(burst);
    const rest: PendingNotification[] = [];
    for (const who of others) rest.push(...(await orderShipped(who.customer.id)));
    await dispatcher.dispatch(rest);

    await vi.waitFor(async () => expect(await ctx.prisma.notification.count({ where: { id: { in: [...burst, ...rest].map((n) => n.id) }, status: 'pending' } })).toBe(0), { timeout: 30_000, interval: 100 });
    const toBusy = fake.calls(TOKEN).filter((c) => c.method === 'sendMessage' && String(c.params.chat_id) === String(busy.user.id));
    // The fake refuses a private chat past 3 at once and 1/s after (429): paced, none was refused.
    expect(toBusy.map((c) => c.status)).toEqual(Array(6).fill(200));
    const lastToBusy = Math.max(...toBusy.map((c) => c.at));
    for (const who of others) {
      const [sent] = sentTo(fake, TOKEN, who.user.id);
      expect(sent!.at, `chat ${who.user.id}`).toBeLessThan(lastToBusy);
    }
  });
});

describe('a row claimed by a worker that may still be sending (Telegram)', () => {
  it('is not sent again before the claim\'s lease runs out, then is sent (at least once)', async () => {
    const who = await customerInTelegram(ctx.prisma, fake, TOKEN);
    const [row] = await orderShipped(who.customer.id);
    // Another worker claimed it a moment ago (its request may be in flight).
    const claimedAt = new Date();
    await ctx.prisma.notification.update({ where: { id: row!.id }, data: { sendingAt: claimedAt, attempts: 1 } });
    await dispatcher.dispatch([row!]);
    const queue = dispatcher.queueFor('telegram');
    await vi.waitFor(async () => expect(await (await queue.getJob(row!.id))!.getState()).toBe('delayed'), { timeout: 10_000, interval: 20 });
    expect(sentTo(fake, TOKEN, who.user.id)).toHaveLength(0);

    // The lease (the sender's 30 s timeout + 5 s) is long; pull the claim back in time instead of waiting it out.
    await ctx.prisma.notification.update({ where: { id: row!.id }, data: { sendingAt: new Date(claimedAt.getTime() - 36_000) } });
    await (await queue.getJob(row!.id))!.promote();
    await vi.waitFor(async () => expect(await ctx.prisma.notification.findUniqueOrThrow({ where: { id: row!.id } })).toMatchObject({ status: 'sent', sendingAt: null, attempts: 2 }), { timeout: 10_000, interval: 50 });
    expect(sentTo(fake, TOKEN, who.user.id)).toHaveLength(1);
  });
});

describe('the chat pacer', () => {
  it('gives one chat one slot per interval (reserved in turn), other chats their own, and holds a refused chat', async () => {
    const pacer = createChatPacer({ redis: ctx.redis, prefix: `${ctx.config.redisKeyPrefix}pacer-unit:`, intervalMs: 1000 });
    expect(await pacer.reserve('a')).toBe(0);
    const second = await pacer.reserve('a');
    const third = await pacer.reserve('a');
    expect(second).toBeGreaterThan(900);
    expect(second).toBeLessThanOrEqual(1000);
    expect(third).toBeGreaterThan(1900);
    expect(third).toBeLessThanOrEqual(2000);
    expect(await pacer.reserve('b')).toBe(0);
    await pacer.hold('b', 30_000);
    expect(await pacer.reserve('b')).toBeGreaterThan(29_000);
    // A shorter hold never shortens a longer one.
    await pacer.hold('c', 30_000);
    await pacer.hold('c', 10);
    expect(await pacer.reserve('c')).toBeGreaterThan(29_000);
  });

  it('calls it the bot-wide limit only when several chats are refused at once', async () => {
    const pacer = createChatPacer({ redis: ctx.redis, prefix: `${ctx.config.redisKeyPrefix}pacer-signal:`, globalSignalChats: 3, globalSignalWindowMs: 60_000 });
    expect(await pacer.noteRateLimited('a')).toBe(false);
    expect(await pacer.noteRateLimited('a')).toBe(false);
    expect(await pacer.noteRateLimited('b')).toBe(false);
    expect(await pacer.noteRateLimited('c')).toBe(true);
  });
});

describe('an order status notification whose event cannot be read', () => {
  it('is skipped, nothing sent, when the event is gone or the payload\'s id is not one', async () => {
    const who = await customerInTelegram(ctx.prisma, fake, TOKEN);
    const [shipped] = await orderShipped(who.customer.id);
    const { payload } = await ctx.prisma.notification.findUniqueOrThrow({ where: { id: shipped!.id } });
    await ctx.prisma.orderStatusEvent.delete({ where: { id: (payload as { statusEventId: string }).statusEventId } });
    const forged = await ctx.prisma.$transaction(async (tx) => [
      ...(await notifyCustomer(tx, { customerId: who.customer.id, kind: 'order-status', cause: 'forged-1', payload: { statusEventId: "1'; DROP TABLE orders; --" } })),
      ...(await notifyCustomer(tx, { customerId: who.customer.id, kind: 'order-status', cause: 'forged-2', payload: { statusEventId: 42 } })),
      ...(await notifyCustomer(tx, { customerId: who.customer.id, kind: 'order-status', cause: 'forged-3', payload: ['not', 'an', 'object'] as unknown as Prisma.InputJsonObject })),
    ]);
    const all = [shipped!, ...forged];
    await dispatcher.dispatch(all);
    await vi.waitFor(async () => {
      const rows = await ctx.prisma.notification.findMany({ where: { id: { in: all.map((n) => n.id) } } });
      expect(rows.map((r) => [r.status, r.error])).toEqual(all.map(() => ['skipped', 'subject no longer exists']));
    }, { timeout: 10_000, interval: 50 });
    expect(sentTo(fake, TOKEN, who.user.id)).toHaveLength(0);
    expect(await ctx.prisma.order.count()).toBeGreaterThan(0);
  });
});
