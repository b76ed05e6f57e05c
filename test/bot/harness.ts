/**
 * End-to-end harness for the customer bot: the fake Telegram Bot API on 127.0.0.1, real
 * PostgreSQL and Redis (createTestContext), and app instances that each run the real
 * Fastify webhook route with their own bot talking HTTP to the fake.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { createTelegramChannel, type TelegramChannel } from '../../src/channels/telegram/telegram-channel.js';
import { TELEGRAM_WEBHOOK_PATH } from '../../src/channels/telegram/webhook.plugin.js';
import { createFakeTelegram, type FakeTelegram, type TgUpdate, type TgUser } from '../../src/fakes/telegram/index.js';
import { buildApp, type App } from '../../src/server/app.js';
import type { Env } from '../../src/config/index.js';
import { createTestContext, type TestContext } from '../support/context.js';

export const TOKEN = '7000002:AAkabinet-customer-bot-test';
export const SECRET = 'test-webhook-secret_1';
export const CART_TEMPLATE = 'https://shop.test/cart?items={items}&order={order}';

export interface Instance {
  app: App;
  channel: TelegramChannel;
  url: string;
  close(): Promise<void>;
}

export interface Harness {
  ctx: TestContext;
  fake: FakeTelegram;
  /**
   * `queued`: the webhook records each update in the durable inbound queue and this instance's
   * consumer runs the brain (production's path, `npm run dev`); otherwise the route handles each
   * update before answering (`direct`, the chat lock's own path).
   */
  startInstance(options?: { webhook?: boolean; queued?: boolean }): Promise<Instance>;
  /** Every update sent so far delivered and handled (with a queue: nothing left in it). */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** `env` adds to the bot's test environment (e.g. a shop webhook endpoint). */
export async function createHarness(options: { env?: Env } = {}): Promise<Harness> {
  const fake = createFakeTelegram({ rateLimits: false, webhookRetry: { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 3, timeoutMs: 20_000 } });
  const apiRoot = await fake.listen();
  fake.createBot({ token: TOKEN, username: 'kabinet_shop_bot', firstName: 'Kabinet' });
  const ctx = await createTestContext({
    env: {
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: apiRoot,
      TELEGRAM_WEBHOOK_SECRET: SECRET,
      SHOP_CART_URL_TEMPLATE: CART_TEMPLATE,
      SHOP_NAME: 'Shop <&> Co',
      ...options.env,
    },
  });
  const instances = new Set<Instance>();
  return {
    ctx,
    fake,
    async startInstance(options = {}) {
      const channel = options.queued ? createTelegramChannel(ctx, { lock: { maxPollMs: 20 } }, { inbound: { sweepMs: 100 } }) : createTelegramChannel(ctx, { lock: { maxPollMs: 20 } }, { direct: true });
      if (options.queued) await channel.startConsuming();
      const app = await buildApp({ logger: ctx.logger, health: [], docs: false, plugins: [{ plugin: channel.plugin! }] });
      const address = await app.listen({ host: '127.0.0.1', port: 0 });
      await channel.customerBot.bot.init();
      const url = `${address}${TELEGRAM_WEBHOOK_PATH}`;
      if (options.webhook !== false) await channel.customerBot.bot.api.setWebhook(url, { secret_token: SECRET });
      const instance: Instance = {
        app,
        channel,
        url,
        async close() {
          instances.delete(instance);
          await app.close();
          await channel.stopConsuming();
        },
      };
      instances.add(instance);
      return instance;
    },
    async settle() {
      await fake.waitForDelivery(TOKEN, { timeoutMs: 15_000 });
      for (const i of instances) {
        const inbound = i.channel.inbound;
        if (inbound) await eventually(async () => (await inbound.pendingChats()) === 0);
      }
    },
    async close() {
      for (const i of [...instances]) await i.close();
      await fake.close();
      await ctx.close();
    },
  };
}

/** One harness with one running instance for a test file (or a describe); call the result inside tests. */
export function useHarness(options: { env?: Env; queued?: boolean } = {}): () => Harness {
  let h: Harness | undefined;
  beforeAll(async () => {
    h = await createHarness(options);
    await h.startInstance({ queued: options.queued ?? false });
  });
  afterAll(async () => {
    await h?.close();
  });
  return () => h!;
}

/** A person chatting with the bot through the fake (updates arrive by webhook). */
export function person(h: Harness, input: { firstName: string; lastName?: string; languageCode?: string; phone?: string }) {
  const user: TgUser = h.fake.createUser(input);
  const settle = () => h.settle();
  const chat = () => h.fake.chat(TOKEN, user.id);
  return {
    user,
    async say(text: string) {
      h.fake.sendText(TOKEN, user.id, text);
      await settle();
    },
    async start(payload: string) {
      h.fake.startWithPayload(TOKEN, user.id, payload);
      await settle();
    },
    async shareContact(contact: { phone: string; firstName: string; lastName?: string; userId?: number | undefined }) {
      h.fake.sendContact(TOKEN, user.id, contact);
      await settle();
    },
    /** Presses the button with this callback data on the newest bot message that has it. */
    async press(data: string): Promise<TgUpdate> {
      const message = [...chat()].reverse().find((m) => m.direction === 'out' && buttons(m.message).some((b) => b.callback_data === data));
      expect(message, `no message with button ${data}; last: ${lastText()}`).toBeDefined();
      const update = h.fake.pressButton(TOKEN, user.id, message!.messageId, data);
      await settle();
      return update;
    },
    /** A press on data no current message carries (old or forged buttons). */
    async pressStale(data: string): Promise<TgUpdate> {
      const message = [...chat()].reverse().find((m) => m.direction === 'out')!;
      const update = h.fake.pressButton(TOKEN, user.id, message.messageId, data, { force: true });
      await settle();
      return update;
    },
    chat,
    lastText,
    /** Texts of the bot's messages, oldest first (edited messages show their current text). */
    botTexts: () => chat().filter((m) => m.direction === 'out').map((m) => m.text ?? ''),
    lastButtons: () => buttons([...chat()].reverse().find((m) => m.direction === 'out')!.message),
  };
  function lastText(): string {
    return [...chat()].reverse().find((m) => m.direction === 'out')?.text ?? '';
  }
}

export function buttons(message: { reply_markup?: unknown }): Array<{ text: string; callback_data?: string; url?: string }> {
  const markup = message.reply_markup as { inline_keyboard?: Array<Array<{ text: string; callback_data?: string; url?: string }>> } | undefined;
  return markup?.inline_keyboard?.flat() ?? [];
}

/** Polls a condition (not a timer): resolves when it holds, fails after many checks. */
export async function eventually(check: () => Promise<boolean> | boolean, attempts = 500): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition never held');
}
