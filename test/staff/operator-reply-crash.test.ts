/**
 * Operator → customer survives a crash. The answer is stored (pending) and queued, as the staff
 * webhook does; the operator-reply worker runs in a child process and is killed with SIGKILL
 * while the send is in flight (a proxy in front of the fake lets the platform have the request
 * but never returns the answer, so the kill lands mid-send every time). A worker in this
 * process takes the stalled job over:
 * - VK: random_id is derived from the support message id, so VK drops the resend: the customer
 *   sees the answer exactly once, and the row is marked sent.
 * - Telegram: no idempotency key; the answer Telegram accepted before the kill is sent again
 *   (at least once: the documented repeat window), and the row is marked sent.
 * And without any crash of a worker: an answer whose job was never queued (the web process
 * died between storing and queueing) is found by the support sweeper and delivered; two
 * answers whose jobs run in reverse order still arrive in the order they were written.
 */
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { StaffRef } from '../../src/domain/support/support.service.js';
import { parseWorkingHours } from '../../src/domain/support/hours.js';
import { createFakeTelegram, type FakeTelegram } from '../../src/fakes/telegram/index.js';
import { createFakeVk, type FakeVk } from '../../src/fakes/vk/index.js';
import { randomIdFor } from '../../src/channels/vk/method-table.js';
import { createOperatorReplyQueue, startOperatorReplyWorker } from '../../src/staff/operator-reply.queue.js';
import { createStaffServices } from '../../src/staff/staff-side.js';
import { sweepSupport } from '../../src/staff/support-sweeper.js';
import { vkClient } from '../channels/vk/support.js';
import { customerInTelegram } from '../notifications/support.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { createCustomer } from '../support/factories.js';
import { holdingProxy, killDrill, type HoldingProxy } from '../support/kill-drill.js';

const TG_TOKEN = '7000031:AAtest_operator_reply_crash_xxxx';
const STAFF_TOKEN = '7000032:AAtest_operator_reply_staff_xxxx';
const STAFF_CHAT = '-1009000000031';
const VK_GROUP = 7131;
const VK_TOKEN = 'vk-operator-reply-crash-7131';
const LOCK_MS = 1000;

let ctx: TestContext;
let tg: FakeTelegram;
let vk: FakeVk;
let staff: StaffRef;
const workers: Worker[] = [];
const proxies: HoldingProxy[] = [];

beforeAll(async () => {
  tg = createFakeTelegram();
  await tg.listen();
  tg.createBot({ token: TG_TOKEN, username: 'kabinet_reply_crash_bot' });
  vk = createFakeVk();
  await vk.listen();
  vk.createGroup({ id: VK_GROUP, token: VK_TOKEN, confirmationCode: 'c0de', secret: 's3cret' });
  ctx = await createTestContext({ env: channelsEnv() });
  const member = await ctx.prisma.staffMember.create({ data: { telegramUserId: '424242', name: 'Olga Operator' } });
  staff = { id: member.id, name: member.name, role: 'operator' };
}, 60_000);

afterAll(async () => {
  drill.cleanup();
  await Promise.all(workers.map((w) => w.close()));
  await ctx?.close();
  for (const proxy of proxies) await proxy.close();
  await tg?.close();
  await vk?.close();
});

/** This process's services, talking to the fakes directly. */
const services = () => createStaffServices(ctx, { vk: vkClient(vk, VK_TOKEN) });

/** An operator's answer stored and queued exactly as the staff bot's topic relay does it. */
async function operatorAnswers(conversationId: string, text: string, options: { queue?: boolean } = {}) {
  const { support, replyQueue } = services();
  const written = await support.operatorWrites(conversationId, staff, { text, note: false, staffMessageId: String(Date.now()) });
  if (options.queue !== false) await replyQueue.reply(conversationId, written.messageId);
  return written.messageId;
}

async function vkCustomer() {
  const user = vk.createUser({ firstName: 'Пётр' });
  vk.allowMessages(VK_GROUP, user.id);
  const customer = await createCustomer(ctx.prisma);
  const identity = await ctx.prisma.channelIdentity.create({ data: { platform: 'vk', externalId: String(user.id), chatId: String(user.id), customerId: customer.id, linkedAt: new Date() } });
  const { conversationId } = await services().support.request(identity.id, 'Где заказ?');
  return { user, conversationId };
}

async function telegramCustomer() {
  const { user, identity } = await customerInTelegram(ctx.prisma, tg, TG_TOKEN);
  const { conversationId } = await services().support.request(identity.id, 'Где заказ?');
  return { user, conversationId };
}

/** The customer bot's, the staff bot's and VK's settings: the test's and the child's. */
function channelsEnv(): Record<string, string> {
  return {
    QUEUE_LOCK_DURATION_MS: String(LOCK_MS),
    TELEGRAM_BOT_TOKEN: TG_TOKEN,
    TELEGRAM_API_ROOT: tg.apiRoot!,
    STAFF_BOT_TOKEN: STAFF_TOKEN,
    STAFF_CHAT_ID: STAFF_CHAT,
    VK_GROUP_TOKEN: VK_TOKEN,
    VK_GROUP_ID: String(VK_GROUP),
    VK_CALLBACK_SECRET: 's3cret',
    VK_CONFIRMATION_CODE: 'c0de',
    VK_API_BASE_URL: vk.apiBaseUrl,
  };
}

/** The operator-reply worker in a child process (this file's database and prefixes), killed with SIGKILL mid-send. */
const drill = killDrill('test/staff/operator-reply-worker.process.ts', () => ({
  NODE_ENV: 'test',
  DATABASE_URL: ctx.config.databaseUrl,
  REDIS_URL: ctx.config.redisUrl,
  QUEUE_PREFIX: ctx.config.queuePrefix,
  REDIS_KEY_PREFIX: ctx.config.redisKeyPrefix,
  ...channelsEnv(),
}));

/** A worker in this process: takes stalled jobs over and runs new ones. */
function ensureWorker() {
  if (workers.length > 0) return;
  const s = services();
  workers.push(startOperatorReplyWorker({ queues: ctx.queues, redis: ctx.redis, redisKeyPrefix: ctx.config.redisKeyPrefix, support: s.support, replies: s.replies, logger: ctx.logger, lockDurationMs: LOCK_MS }));
}

/** Stops this process's worker, so the next job goes to the child. */
async function stopWorker() {
  await Promise.all(workers.splice(0).map((w) => w.close()));
}

const statusOf = async (messageId: string) => (await ctx.prisma.supportMessage.findUniqueOrThrow({ where: { id: messageId } })).deliveryStatus;
const settled = (messageId: string) => vi.waitFor(async () => expect(await statusOf(messageId)).toBe('sent'), { timeout: 30_000, interval: 100 });

describe('an operator-reply worker killed with SIGKILL mid-send', () => {
  it('VK: the answer is delivered exactly once (VK drops the resend) and marked sent', async () => {
    const { user, conversationId } = await vkCustomer();
    const proxy = await holdingProxy(vk.apiBaseUrl.replace(/\/method$/, ''), (path, body) => path.endsWith('/messages.send') && new URLSearchParams(body).get('peer_ids') === String(user.id));
    proxies.push(proxy);
    const messageId = await operatorAnswers(conversationId, 'Заказ уже в пути');

    await drill.killWhenHeld({ VK_API_BASE_URL: `${proxy.root}/method` }, proxy.held);
    const sends = () => vk.calls(VK_GROUP).filter((c) => c.method === 'messages.send' && c.params.peer_ids === String(user.id) && !c.error);
    expect(sends()).toHaveLength(1);
    expect(await statusOf(messageId)).toBe('pending');

    ensureWorker();
    await settled(messageId);
    // Sent again by the takeover with the same random_id, derived from the message id: one message.
    expect(sends()).toHaveLength(2);
    expect(sends().map((c) => c.params.random_id)).toEqual([String(randomIdFor(`support-${messageId}-0`)), String(randomIdFor(`support-${messageId}-0`))]);
    const seen = vk.conversation(VK_GROUP, user.id).messages.filter((m) => m.out);
    expect(seen.map((m) => m.text)).toEqual(['💬 Olga Operator, оператор:\nЗаказ уже в пути']);
    const row = await ctx.prisma.supportMessage.findUniqueOrThrow({ where: { id: messageId } });
    expect(row.externalMessageId).toBe(String(seen[0]!.conversationMessageId));
    await stopWorker();
  }, 60_000);

  it('Telegram: the answer is delivered at least once (the one accepted before the kill may repeat) and marked sent', async () => {
    const { user, conversationId } = await telegramCustomer();
    const proxy = await holdingProxy(tg.apiRoot!, (path, body) => path.endsWith('/sendMessage') && body.includes(`"chat_id":"${user.id}"`));
    proxies.push(proxy);
    const messageId = await operatorAnswers(conversationId, 'Трек-номер пришлю');

    await drill.killWhenHeld({ TELEGRAM_API_ROOT: proxy.root }, proxy.held);
    const received = () => tg.chat(TG_TOKEN, user.id).filter((m) => m.direction === 'out' && (m.text ?? '').includes('Трек-номер пришлю'));
    expect(received()).toHaveLength(1);
    expect(await statusOf(messageId)).toBe('pending');

    ensureWorker();
    await settled(messageId);
    // Telegram accepted it before the kill and again from the takeover: the repeat window.
    expect(received()).toHaveLength(2);
    await stopWorker();
  }, 60_000);
});

describe('without a worker crash', () => {
  it('an answer whose job was never queued is found by the support sweeper and delivered once', async () => {
    ensureWorker();
    const { user, conversationId } = await vkCustomer();
    const messageId = await operatorAnswers(conversationId, 'Ответ без задачи', { queue: false });
    // Nothing queued: it waits.
    await new Promise((r) => setTimeout(r, 300));
    expect(await statusOf(messageId)).toBe('pending');
    // Older than the stale limit, as if the web process had died a minute ago.
    const aMinuteAgo = new Date(Date.now() - 60_000);
    await ctx.prisma.supportMessage.update({ where: { id: messageId }, data: { createdAt: aMinuteAgo } });
    await ctx.prisma.supportConversation.update({ where: { id: conversationId }, data: { answeredAt: aMinuteAgo } });
    const swept = await sweepSupport({ logger: ctx.logger, services: services(), hours: parseWorkingHours('', 'Europe/Moscow'), autoReplyAfterSeconds: 3600, reminderAfterSeconds: 3600, timeZone: 'Europe/Moscow' });
    expect(swept.resends).toBe(1);
    await settled(messageId);
    expect(vk.conversation(VK_GROUP, user.id).messages.filter((m) => m.out).map((m) => m.text)).toEqual(['💬 Olga Operator, оператор:\nОтвет без задачи']);
  });

  it('two answers whose jobs run in reverse order arrive in the order they were written', async () => {
    ensureWorker();
    const { user, conversationId } = await vkCustomer();
    const first = await operatorAnswers(conversationId, 'первый', { queue: false });
    const second = await operatorAnswers(conversationId, 'второй', { queue: false });
    const queue = createOperatorReplyQueue({ queues: ctx.queues });
    await queue.reply(conversationId, second);
    await queue.reply(conversationId, first);
    await settled(first);
    await settled(second);
    expect(vk.conversation(VK_GROUP, user.id).messages.filter((m) => m.out).map((m) => m.text)).toEqual(['💬 Olga Operator, оператор:\nпервый', 'второй']);
  });
});
