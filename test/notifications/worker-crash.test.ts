/**
 * The kill -9 drill: a send worker process is killed with SIGKILL while a message is in
 * flight; a second worker takes over, and no notification is lost (at least once). A proxy
 * in front of the fake platform forwards the held request (the platform has it) but never
 * returns the answer, so the kill lands in the middle of a send every time, not by luck.
 * - Telegram has no idempotency key: the interrupted message is sent again once its claim's
 *   lease ran out; that one chat may see it twice (the documented window), every other chat
 *   exactly once.
 * - VK: random_id is derived from the notification id, so VK drops the resend and every
 *   peer sees exactly one message.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Worker } from 'bullmq';
import { createTelegramSender } from '../../src/channels/telegram-sender.js';
import type { OutboundSender, Platform } from '../../src/channels/outbound.js';
import { createVkBridge } from '../../src/channels/vk/method-table.js';
import { createVkOutboundSender } from '../../src/channels/vk/outbound-sender.js';
import { createPayloadStore } from '../../src/channels/vk/payload-store.js';
import { createVkApi } from '../../src/channels/vk/vk-api.js';
import { createFakeTelegram, type FakeTelegram } from '../../src/fakes/telegram/index.js';
import { createFakeVk, type FakeVk } from '../../src/fakes/vk/index.js';
import { notifyCustomer, type PendingNotification } from '../../src/notifications/producer.js';
import { createNotificationDispatcher } from '../../src/notifications/send-queue.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { holdingProxy as startHoldingProxy, killDrill, type HoldingProxy } from '../support/kill-drill.js';
import { createCustomer, createOrder, createProduct } from '../support/factories.js';
import { customerInTelegram, sentTo } from './support.js';
import { startTestSendWorkers } from '../support/send-workers.js';

const TG_TOKEN = '7000002:AAtest_crash_token_xxxxxxxxxx';
const VK_GROUP = 7101;
const VK_TOKEN = 'vk-crash-token-7101';
const COUNT = 12;
let ctx: TestContext;
let telegram: FakeTelegram;
let vkFake: FakeVk;
const workers: Worker[] = [];
const proxies: HoldingProxy[] = [];

/** A holding proxy closed with the file. */
async function holdingProxy(upstream: string, hold: (path: string, body: string) => boolean) {
  const proxy = await startHoldingProxy(upstream, hold);
  proxies.push(proxy);
  return proxy;
}

async function orderNotifications(customerIds: string[]): Promise<PendingNotification[]> {
  const product = await createProduct(ctx.prisma);
  const pending: PendingNotification[] = [];
  for (const customerId of customerIds) {
    const order = await createOrder(ctx.prisma, customerId, { items: [{ product, quantity: 1, price: 100 }], events: [{ status: 'shipped', occurredAt: new Date() }] });
    const event = await ctx.prisma.orderStatusEvent.findFirstOrThrow({ where: { orderId: order.id } });
    pending.push(...(await ctx.prisma.$transaction((tx) => notifyCustomer(tx, { customerId, kind: 'order-status', cause: event.id, payload: { orderId: order.id, statusEventId: event.id, status: 'shipped' } }))));
  }
  return pending;
}

/** The send worker in a child process, killed with SIGKILL while it holds a send. */
const drill = killDrill('test/notifications/send-worker.process.ts', () => ({ NODE_ENV: 'test', DATABASE_URL: ctx.config.databaseUrl, REDIS_URL: ctx.config.redisUrl, QUEUE_PREFIX: ctx.config.queuePrefix, REDIS_KEY_PREFIX: ctx.config.redisKeyPrefix, QUEUE_LOCK_DURATION_MS: '1000' }));
const killMidSend = (env: Record<string, string>, held: Promise<void>) => drill.killWhenHeld(env, held);

/** A second worker (this process) takes over the stalled job and the rest of the queue. */
function takeOver(platform: Platform, sender: OutboundSender) {
  workers.push(
    ...startTestSendWorkers(ctx, {
      senders: new Map([[platform, sender]]),
      lockDurationMs: 1000,
      // The dead worker's request is known to be over (the process is gone); a short lease keeps the drill short.
      claimLeaseMs: 1500,
    }),
  );
}

const allSettled = () => vi.waitFor(async () => expect(await ctx.prisma.notification.count({ where: { status: 'pending' } })).toBe(0), { timeout: 30_000, interval: 100 });

beforeAll(async () => {
  ctx = await createTestContext({ env: { QUEUE_LOCK_DURATION_MS: '1000' } });
  telegram = createFakeTelegram();
  await telegram.listen();
  telegram.createBot({ token: TG_TOKEN, username: 'kabinet_crash_bot' });
  vkFake = createFakeVk();
  await vkFake.listen();
  vkFake.createGroup({ id: VK_GROUP, token: VK_TOKEN, confirmationCode: 'c0de', secret: 's3cret' });
});
afterAll(async () => {
  drill.cleanup();
  await Promise.all(workers.map((w) => w.close()));
  await ctx?.close();
  for (const proxy of proxies) await proxy.close();
  await telegram?.close();
  await vkFake?.close();
});

describe('a send worker killed with SIGKILL mid-send', () => {
  it('Telegram: loses no notification; only the one cut mid-send may arrive twice', async () => {
    const people = [];
    for (let i = 0; i < COUNT; i++) people.push(await customerInTelegram(ctx.prisma, telegram, TG_TOKEN));
    const pending = await orderNotifications(people.map((p) => p.customer.id));
    expect(pending).toHaveLength(COUNT);
    const victim = people[4]!;
    const proxy = await holdingProxy(telegram.apiRoot!, (_path, body) => body.includes(`"chat_id":"${victim.user.id}"`));
    await createNotificationDispatcher({ prisma: ctx.prisma, queues: ctx.queues, logger: ctx.logger, sendAttempts: 5, sendBackoffMs: 50 }).dispatch(pending);

    await killMidSend({ TELEGRAM_BOT_TOKEN: TG_TOKEN, TELEGRAM_API_ROOT: proxy.root }, proxy.held);
    expect(sentTo(telegram, TG_TOKEN, victim.user.id)).toHaveLength(1);
    expect(await ctx.prisma.notification.findFirstOrThrow({ where: { identityId: victim.identity.id } })).toMatchObject({ status: 'pending' });

    takeOver('telegram', createTelegramSender({ token: TG_TOKEN, apiRoot: telegram.apiRoot! }));
    await allSettled();

    const rows = await ctx.prisma.notification.findMany({ where: { id: { in: pending.map((p) => p.id) } }, select: { status: true, identityId: true, attempts: true } });
    expect(rows.every((r) => r.status === 'sent')).toBe(true);
    for (const who of people) {
      // Telegram accepted the victim's message before the kill and again from the takeover.
      expect(sentTo(telegram, TG_TOKEN, who.user.id), `chat ${who.user.id}`).toHaveLength(who === victim ? 2 : 1);
    }
    expect(rows.find((r) => r.identityId === victim.identity.id)!.attempts).toBe(2);
  }, 60_000);

  it('VK: loses no notification and the resend is dropped by VK (random_id from the notification id)', async () => {
    const peers = [];
    for (let i = 0; i < COUNT; i++) {
      const user = vkFake.createUser({ firstName: `Peer${i}` });
      vkFake.allowMessages(VK_GROUP, user.id);
      const customer = await createCustomer(ctx.prisma);
      const identity = await ctx.prisma.channelIdentity.create({ data: { platform: 'vk', externalId: String(user.id), chatId: String(user.id), customerId: customer.id, linkedAt: new Date() } });
      peers.push({ user, customer, identity });
    }
    const pending = await orderNotifications(peers.map((p) => p.customer.id));
    expect(pending).toHaveLength(COUNT);
    const victim = peers[4]!;
    const proxy = await holdingProxy(vkFake.apiBaseUrl.replace(/\/method$/, ''), (path, body) => path.endsWith('/messages.send') && new URLSearchParams(body).get('peer_ids') === String(victim.user.id));
    await createNotificationDispatcher({ prisma: ctx.prisma, queues: ctx.queues, logger: ctx.logger, sendAttempts: 5, sendBackoffMs: 50 }).dispatch(pending);

    await killMidSend({ SEND_PLATFORM: 'vk', VK_GROUP_TOKEN: VK_TOKEN, VK_GROUP_ID: String(VK_GROUP), VK_CALLBACK_SECRET: 's3cret', VK_CONFIRMATION_CODE: 'c0de', VK_API_BASE_URL: `${proxy.root}/method` }, proxy.held);
    const sendsTo = (peer: number) => vkFake.calls(VK_GROUP).filter((c) => c.method === 'messages.send' && c.params.peer_ids === String(peer) && !c.error);
    expect(sendsTo(victim.user.id)).toHaveLength(1);

    const vk = createVkApi({ token: VK_TOKEN, apiBaseUrl: vkFake.apiBaseUrl, rateLimitPerSecond: 20, agent: vkFake.agent as never });
    const store = createPayloadStore({ redis: ctx.redis, prefix: `${ctx.config.redisKeyPrefix}vk:${VK_GROUP}:` });
    takeOver('vk', createVkOutboundSender(createVkBridge({ vk, groupId: VK_GROUP, store })));
    await allSettled();

    const rows = await ctx.prisma.notification.findMany({ where: { id: { in: pending.map((p) => p.id) } }, select: { status: true } });
    expect(rows.every((r) => r.status === 'sent')).toBe(true);
    // The victim's message was sent twice with the same random_id; the person sees it once.
    expect(sendsTo(victim.user.id)).toHaveLength(2);
    const [first, second] = sendsTo(victim.user.id);
    expect(second!.params.random_id).toBe(first!.params.random_id);
    for (const peer of peers) {
      expect(vkFake.conversation(VK_GROUP, peer.user.id).messages.filter((m) => m.out), `peer ${peer.user.id}`).toHaveLength(1);
    }
  }, 60_000);
});
