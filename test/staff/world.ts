/**
 * The operator side end to end: real PostgreSQL and Redis, the fake Telegram (the customer
 * bot, the staff bot, forum staff groups with operators) and the fake VK, one Kabinet app
 * serving the customer webhook, the VK callback, the staff webhook and the admin API, and the
 * staff-group workers. Customers are driven with the scenario drivers.
 */
import type { Worker } from 'bullmq';
import { adminConversationsPlugin } from '../../src/api/admin/conversations.js';
import { createTelegramChannel, type TelegramChannel } from '../../src/channels/telegram/telegram-channel.js';
import { TELEGRAM_WEBHOOK_PATH } from '../../src/channels/telegram/webhook.plugin.js';
import { createVkCustomerBot, VK_CALLBACK_PATH, type VkCustomerBot } from '../../src/channels/vk/vk-customer-bot.js';
import type { Env } from '../../src/config/index.js';
import { createTranscriptQueries } from '../../src/domain/support/transcripts.js';
import { createFakeTelegram, type ChatEntry, type FakeTelegram, type RateLimitConfig, type TgUser } from '../../src/fakes/telegram/index.js';
import { createFakeVk, type FakeVk } from '../../src/fakes/vk/index.js';
import { buildApp, type App } from '../../src/server/app.js';
import { QueueName } from '../../src/queues/names.js';
import { createStaffChannel, startStaffWorkers, type StaffChannel } from '../../src/staff/staff-side.js';
import { STAFF_WEBHOOK_PATH } from '../../src/staff/webhook.plugin.js';
import { vkClient } from '../channels/vk/support.js';
import { eventually } from '../bot/harness.js';
import { smsOutbox, TG_SECRET, TG_TOKEN, VK_CONFIRMATION, VK_GROUP, VK_SECRET, VK_TOKEN, type SmsOutbox, type World } from '../scenarios/world.js';
import { createTestContext, type TestContext } from '../support/context.js';

export const STAFF_TOKEN = '7000009:AAkabinet-staff-bot-test-token';
export const STAFF_SECRET = 'staff-webhook-secret_9';
export const ADMIN_TOKEN = 'admin-token-0123456789abcdef';

export interface StaffWorld extends World {
  staff: StaffChannel;
  staffWorkers: Worker[];
  groups: number[];
  olga: TgUser;
  boris: TgUser;
  alla: TgUser;
  stranger: TgUser;
  /** Messages in a staff group (optionally one topic), oldest first. */
  topicLog(groupId: number, threadId?: number): ChatEntry[];
  /** Topics of a group: thread id → name. */
  topics(groupId: number): Map<number, string>;
  /** An operator writes in a topic; resolves when the staff bot handled it and the answer was delivered (or refused). */
  operatorSays(user: TgUser, groupId: number, threadId: number, text: string): Promise<void>;
  /** An operator presses a button on a staff-group message; resolves when what it queued for the customer went out. */
  operatorPresses(user: TgUser, groupId: number, messageId: number, data: string, force?: boolean): Promise<void>;
  /** Resolves when the operator-reply queue is empty (every queued answer and close line delivered or refused). */
  settleReplies(): Promise<void>;
  /** Resolves when the conversation's topic exists and shows `text`. */
  waitInTopic(conversationId: string, text: string | RegExp): Promise<{ groupId: number; threadId: number }>;
  settleStaff(): Promise<void>;
}

export interface StaffWorldOptions {
  groups?: number;
  env?: Env;
  /** The fake's limits (default off); e.g. `{ group: { burst: 20, perSecond: 20 / 60 } }`. */
  rateLimits?: false | Partial<RateLimitConfig>;
}

export async function createStaffWorld(options: StaffWorldOptions = {}): Promise<StaffWorld> {
  const tg = createFakeTelegram({ rateLimits: options.rateLimits ?? false, webhookRetry: { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 3, timeoutMs: 20_000 } });
  const apiRoot = await tg.listen();
  tg.createBot({ token: TG_TOKEN, username: 'kabinet_shop_bot', firstName: 'Kabinet' });
  const staffBot = tg.createBot({ token: STAFF_TOKEN, username: 'kabinet_staff_bot', firstName: 'Kabinet Staff' });
  const olga = tg.createUser({ firstName: 'Olga', lastName: 'Operator', languageCode: 'ru' });
  const boris = tg.createUser({ firstName: 'Boris', languageCode: 'ru' });
  const alla = tg.createUser({ firstName: 'Alla', lastName: 'Admin', languageCode: 'ru' });
  const stranger = tg.createUser({ firstName: 'Stranger' });
  const groups = Array.from({ length: options.groups ?? 1 }, (_, i) =>
    tg.createGroup({ title: `Support ${i + 1}`, isForum: true, members: [staffBot.id, olga.id, boris.id, alla.id, stranger.id] }).id,
  );
  const vk = createFakeVk({ callback: { retryDelaysMs: [20, 40, 80, 160, 320], timeoutMs: 20_000 } });
  const vkApiBaseUrl = await vk.listen();
  vk.createGroup({ id: VK_GROUP, token: VK_TOKEN, confirmationCode: VK_CONFIRMATION, secret: VK_SECRET, name: 'Shop VK' });

  const ctx: TestContext = await createTestContext({
    env: {
      TELEGRAM_BOT_TOKEN: TG_TOKEN,
      TELEGRAM_API_ROOT: apiRoot,
      TELEGRAM_WEBHOOK_SECRET: TG_SECRET,
      VK_GROUP_TOKEN: VK_TOKEN,
      VK_GROUP_ID: String(VK_GROUP),
      VK_CALLBACK_SECRET: VK_SECRET,
      VK_CONFIRMATION_CODE: VK_CONFIRMATION,
      VK_API_BASE_URL: vkApiBaseUrl,
      STAFF_BOT_TOKEN: STAFF_TOKEN,
      STAFF_CHAT_ID: groups.join(','),
      STAFF_WEBHOOK_SECRET: STAFF_SECRET,
      STAFF_USER_IDS: [olga.id, boris.id, alla.id].join(','),
      STAFF_ADMIN_IDS: String(alla.id),
      ADMIN_API_TOKEN: ADMIN_TOKEN,
      SHOP_NAME: 'Shop',
      ...(process.env.SCENARIO_LOG_LEVEL ? { LOG_LEVEL: process.env.SCENARIO_LOG_LEVEL } : {}),
      ...options.env,
    },
  });
  const sms: SmsOutbox = smsOutbox();
  // Handled in the request, as in the scenario world; the inbound queue has its own tests.
  const telegram: TelegramChannel = createTelegramChannel(ctx, { lock: { maxPollMs: 20 } }, { direct: true });
  const vkBot: VkCustomerBot = createVkCustomerBot(ctx, { vk: vkClient(vk, VK_TOKEN), sms, bot: { lock: { maxPollMs: 20 } }, direct: true });
  const staff = createStaffChannel(ctx, { vk: vkClient(vk, VK_TOKEN) });
  const app: App = await buildApp({
    logger: ctx.logger,
    health: [],
    docs: false,
    plugins: [
      { plugin: telegram.plugin! },
      vkBot.plugin,
      { plugin: staff.plugin! },
      { plugin: adminConversationsPlugin, options: { prefix: '/api/admin', token: ADMIN_TOKEN, transcripts: createTranscriptQueries({ prisma: ctx.prisma }) } },
    ],
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  await telegram.customerBot.bot.init();
  await telegram.customerBot.bot.api.setWebhook(`${url}${TELEGRAM_WEBHOOK_PATH}`, { secret_token: TG_SECRET });
  await vk.setCallbackUrl(VK_GROUP, `${url}${VK_CALLBACK_PATH}`);
  staff.staffBot.bot.botInfo = await staff.staffBot.bot.telegram.getMe();
  await staff.staffBot.bot.telegram.setWebhook(`${url}${STAFF_WEBHOOK_PATH}`, { secret_token: STAFF_SECRET });
  const staffWorkers = await startStaffWorkers(ctx, { vk: vkClient(vk, VK_TOKEN) });

  const settleStaff = () => tg.waitForDelivery(STAFF_TOKEN, { timeoutMs: 15_000 });
  const replyQueue = ctx.queues.queue(QueueName.operatorReplies);
  const settleReplies = () =>
    eventually(async () => {
      const counts = await replyQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
      return Object.values(counts).every((n) => n === 0);
    }, 3000);
  const topicLog = (groupId: number, threadId?: number) => tg.chat(STAFF_TOKEN, groupId).filter((m) => threadId === undefined || m.threadId === threadId);

  return {
    ctx, tg, vk, app, url, telegram, vkBot, sms, workers: [], staff, staffWorkers, groups, olga, boris, alla, stranger,
    topicLog,
    topics(groupId) {
      const names = new Map<number, string>();
      for (const m of tg.chat(STAFF_TOKEN, groupId)) {
        if (m.message.forum_topic_created) names.set(m.threadId!, m.message.forum_topic_created.name);
        if (m.message.forum_topic_edited?.name) names.set(m.threadId!, m.message.forum_topic_edited.name);
      }
      return names;
    },
    async operatorSays(user, groupId, threadId, text) {
      tg.sendText(STAFF_TOKEN, user.id, text, { chatId: groupId, threadId });
      await settleStaff();
      await settleReplies();
    },
    async operatorPresses(user, groupId, messageId, data, force = false) {
      tg.pressButton(STAFF_TOKEN, user.id, messageId, data, { chatId: groupId, force });
      await settleStaff();
      await settleReplies();
    },
    settleReplies,
    async waitInTopic(conversationId, text) {
      let where: { groupId: number; threadId: number } | undefined;
      await eventually(async () => {
        const c = await ctx.prisma.supportConversation.findUnique({ where: { id: conversationId } });
        if (!c?.staffChatId || !c.staffThreadId) return false;
        const groupId = Number(c.staffChatId);
        const threadId = Number(c.staffThreadId);
        const found = topicLog(groupId, threadId).some((m) => {
          const body = m.text ?? m.caption ?? '';
          return typeof text === 'string' ? body.includes(text) : text.test(body);
        });
        if (found) where = { groupId, threadId };
        return found;
      }, 1500);
      return where!;
    },
    settleStaff,
    async close() {
      for (const w of staffWorkers) await w.close();
      await app.close();
      await tg.close();
      await vk.close();
      await ctx.close();
    },
  };
}
