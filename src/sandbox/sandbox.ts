/**
 * Sandbox mode: with no bot tokens, Kabinet runs against its own fake Telegram Bot API and
 * VK API servers on loopback, with demo people who match the seeded customers, and a browser
 * page (sandbox.plugin.ts) to chat as them. The fakes are the same ones tests use.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { VK_CALLBACK_PATH } from '../channels/vk/vk-customer-bot.js';
import { TELEGRAM_WEBHOOK_PATH } from '../channels/telegram/webhook.plugin.js';
import { STAFF_WEBHOOK_PATH } from '../staff/webhook.plugin.js';
import type { Env } from '../config/index.js';
import type { SmsMessage, SmsSender } from '../sms/index.js';
import { createFakeTelegram, type FakeTelegram } from '../fakes/telegram/index.js';
import { createFakeVk, type FakeVk } from '../fakes/vk/index.js';
import { createSandboxEvents, type SandboxEvent, type SandboxEvents } from './sandbox-events.js';

/** Where the sandbox's demo shop receives Kabinet's webhooks (the outbox), under the page's routes. */
export const SANDBOX_SHOP_WEBHOOK_PATH = '/sandbox/shop/webhook';

export interface SandboxPerson {
  /** Stable key for the page: "telegram:1001", "vk:501". */
  key: string;
  platform: 'telegram' | 'vk';
  userId: number;
  name: string;
  /** The phone Telegram shares as the contact (matches a seeded customer); VK users type it. */
  phone: string;
  language: 'ru' | 'en';
}

export interface Sandbox {
  telegram: FakeTelegram;
  vk: FakeVk;
  telegramToken: string;
  vkGroupId: number;
  shopSecret: string;
  people: SandboxPerson[];
  /** Text messages "sent by SMS" (login codes), to any number, shown on the sandbox page. */
  sms: SmsSender & { inbox(phone?: string): SandboxSms[]; clear(): void };
  /** The page's live channel: everything that changes is pushed as `{ type, data }`. */
  events: SandboxEvents;
  /**
   * Pushes `{ type, data }` to every open sandbox page (server-sent events). Other sandbox
   * plugins (staff, broadcasts) call this; the page hands it to `api.on(type, handler)`.
   */
  push(event: SandboxEvent): void;
  /** Forgets every chat and SMS (the database and Redis are reset by the caller). */
  clearConversations(): void;
  /** The staff side: the staff bot, its forum group, a demo operator (an admin too) answering from the page. */
  staff: { token: string; groupId: number; operator: { id: number; name: string } };
  /** Configuration that points Kabinet at the fakes; merged over the real environment. */
  env(publicBaseUrl: string): Env;
  /** After Kabinet listens: VK confirms the Callback URL (Telegram's webhook is set by the bot). */
  connect(publicBaseUrl: string): Promise<void>;
  close(): Promise<void>;
}

export interface SandboxSms extends SmsMessage {
  /** Sequence number within this run (the page dedups pushed and fetched messages by it). */
  id: number;
  at: string;
}

/** The five seeded customers (prisma/seed-data.ts), then someone the shop does not know yet. */
const PEOPLE: Array<Omit<SandboxPerson, 'key' | 'platform' | 'userId'>> = [
  { name: 'Анна Смирнова', phone: '+79990000001', language: 'ru' },
  { name: 'Игорь Петров', phone: '+79990000002', language: 'ru' },
  { name: 'Emily Clark', phone: '+79990000003', language: 'en' },
  { name: 'Мария Иванова', phone: '+79990000004', language: 'ru' },
  { name: 'David Miller', phone: '+79990000005', language: 'en' },
  { name: 'Новый покупатель', phone: '+79990000042', language: 'ru' },
];

export async function startSandbox(options: { host?: string } = {}): Promise<Sandbox> {
  const host = options.host ?? '127.0.0.1';
  const telegram = createFakeTelegram({ webhookRetry: { baseDelayMs: 200, maxAttempts: 20 } });
  const vk = createFakeVk();
  // A new bot id each run: the fake numbers updates from 1 again, and Kabinet's dedup keys
  // (per bot id) from an earlier run must not swallow them.
  const telegramToken = `${randomInt(100_000_000, 999_999_999)}:SANDBOX${randomBytes(12).toString('hex')}`;
  const vkToken = `vk1.sandbox.${randomBytes(16).toString('hex')}`;
  const vkGroupId = 200000001;
  const vkSecret = randomBytes(12).toString('hex');
  const confirmation = randomBytes(4).toString('hex');
  const webhookSecret = randomBytes(16).toString('hex');
  const shopSecret = randomBytes(24).toString('hex');

  const telegramRoot = await telegram.listen(0, host);
  const vkBase = await vk.listen(0, host);
  telegram.createBot({ token: telegramToken, username: 'kabinet_sandbox_bot', firstName: 'Kabinet' });
  vk.createGroup({ id: vkGroupId, token: vkToken, confirmationCode: confirmation, secret: vkSecret, name: 'Kabinet' });

  const people: SandboxPerson[] = [];
  PEOPLE.forEach((p, i) => {
    const [firstName, lastName] = p.name.split(' ');
    const tgId = 1001 + i;
    telegram.createUser({ id: tgId, firstName: firstName!, ...(lastName ? { lastName } : {}), languageCode: p.language, phone: p.phone });
    people.push({ ...p, key: `telegram:${tgId}`, platform: 'telegram', userId: tgId });
    const vkId = 501 + i;
    vk.createUser({ id: vkId, firstName: firstName!, ...(lastName ? { lastName } : {}), langId: p.language === 'en' ? 3 : 0 });
    people.push({ ...p, key: `vk:${vkId}`, platform: 'vk', userId: vkId });
  });

  const events = createSandboxEvents();
  const push = (event: SandboxEvent) => events.push(event);
  // A chat changed (a message, an edit, a keyboard): the page re-reads that chat.
  telegram.onChatMessage((e) => {
    if (e.chatId > 0 && e.token === telegramToken) push({ type: 'chat', data: { person: `telegram:${e.chatId}` } });
  });
  vk.onConversationMessage((e) => {
    if (e.groupId === vkGroupId) push({ type: 'chat', data: { person: `vk:${e.peerId}` } });
  });

  const inbox: SandboxSms[] = [];
  let smsSeq = 0;
  // The staff group: a forum with the staff bot (admin, can manage topics) and a demo operator.
  const staffToken = `${randomInt(100_000_000, 999_999_999)}:STAFF${randomBytes(12).toString('hex')}`;
  const staffSecret = randomBytes(16).toString('hex');
  const staffBot = telegram.createBot({ token: staffToken, username: 'kabinet_staff_sandbox_bot', firstName: 'Kabinet Staff' });
  const operator = telegram.createUser({ id: 9001, firstName: 'Оля', lastName: 'Оператор', languageCode: 'ru' });
  const staffGroup = telegram.createGroup({ id: -1009001, title: 'Kabinet — поддержка', isForum: true, members: [staffBot.id, { id: operator.id, status: 'administrator' }] });

  const sms: Sandbox['sms'] = {
    kind: 'sandbox',
    async send(message) {
      const entry: SandboxSms = { ...message, id: ++smsSeq, at: new Date().toISOString() };
      inbox.push(entry);
      if (inbox.length > 200) inbox.shift();
      push({ type: 'sms', data: entry });
    },
    inbox: (phone) => (phone === undefined ? [...inbox] : inbox.filter((m) => m.to === phone)),
    clear: () => { inbox.length = 0; },
  };

  return {
    telegram,
    vk,
    sms,
    telegramToken,
    vkGroupId,
    shopSecret,
    people,
    events,
    push,
    clearConversations() {
      telegram.clearChats();
      vk.reset();
      sms.clear();
    },
    staff: { token: staffToken, groupId: staffGroup.id, operator: { id: operator.id, name: 'Оля Оператор' } },
    env: (publicBaseUrl) => ({
      STAFF_BOT_TOKEN: staffToken,
      STAFF_CHAT_ID: String(staffGroup.id),
      STAFF_WEBHOOK_URL: `${publicBaseUrl}${STAFF_WEBHOOK_PATH}`,
      STAFF_WEBHOOK_SECRET: staffSecret,
      STAFF_USER_IDS: String(operator.id),
      STAFF_ADMIN_IDS: String(operator.id),
      SANDBOX: 'true',
      TELEGRAM_BOT_TOKEN: telegramToken,
      TELEGRAM_API_ROOT: telegramRoot,
      TELEGRAM_WEBHOOK_URL: `${publicBaseUrl}${TELEGRAM_WEBHOOK_PATH}`,
      TELEGRAM_WEBHOOK_SECRET: webhookSecret,
      VK_GROUP_ID: String(vkGroupId),
      VK_GROUP_TOKEN: vkToken,
      VK_API_BASE_URL: vkBase,
      VK_CALLBACK_SECRET: vkSecret,
      VK_CONFIRMATION_CODE: confirmation,
      SHOP_API_SECRET: shopSecret,
      // The demo shop on the page receives Kabinet's webhooks (the outbox) and lists them.
      SHOP_WEBHOOK_URL: `${publicBaseUrl}${SANDBOX_SHOP_WEBHOOK_PATH}`,
      SMS_PROVIDER: 'log',
    }),
    async connect(publicBaseUrl) {
      await vk.setCallbackUrl(vkGroupId, `${publicBaseUrl}${VK_CALLBACK_PATH}`);
    },
    async close() {
      await Promise.allSettled([telegram.close(), vk.close()]);
    },
  };
}
