/**
 * One world for the cross-platform scenarios: real PostgreSQL and Redis, the fake Telegram
 * Bot API and the fake VK API on 127.0.0.1, and one Kabinet web app that serves the Telegram
 * webhook, the VK Callback API route and the shop API — the same brain behind both mouths —
 * plus the send workers with the real Telegram and VK senders.
 */
import type { Worker } from 'bullmq';
import { createTelegramSender } from '../../src/channels/telegram-sender.js';
import { createTelegramChannel, type TelegramChannel } from '../../src/channels/telegram/telegram-channel.js';
import { TELEGRAM_WEBHOOK_PATH } from '../../src/channels/telegram/webhook.plugin.js';
import { createVkCustomerBot, VK_CALLBACK_PATH, type VkCustomerBot } from '../../src/channels/vk/vk-customer-bot.js';
import type { OutboundSender, Platform } from '../../src/channels/outbound.js';
import { shopApiPlugin } from '../../src/api/shop/plugin.js';
import { createFakeTelegram, type FakeTelegram } from '../../src/fakes/telegram/index.js';
import { createFakeVk, type FakeVk } from '../../src/fakes/vk/index.js';
import { buildApp, type App } from '../../src/server/app.js';
import { createShopServices } from '../../src/shop-services.js';
import type { SmsSender } from '../../src/sms/index.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { vkClient } from '../channels/vk/support.js';
import { startTestSendWorkers } from '../support/send-workers.js';

export const TG_TOKEN = '7000005:AAkabinet-scenarios-test-token';
export const TG_SECRET = 'scenario-webhook-secret';
export const VK_GROUP = 7005;
export const VK_TOKEN = 'vk-scenarios-token';
export const VK_SECRET = 'vk-scenarios-secret';
export const VK_CONFIRMATION = 'confirm-7005';
export const SHOP_SECRET = 'test-shop-secret-0123456789';
export const CART_TEMPLATE = 'https://shop.test/cart?items={items}&order={order}';

/** The SMS provider as the tests see it: what would have been sent. */
export interface SmsOutbox extends SmsSender {
  sent: Array<{ to: string; text: string; code: string }>;
  lastCodeFor(phone: string): string | undefined;
}

export function smsOutbox(): SmsOutbox {
  const sent: SmsOutbox['sent'] = [];
  return {
    kind: 'sms',
    sent,
    async send(message) {
      sent.push(message);
    },
    lastCodeFor(phone) {
      return [...sent].reverse().find((m) => m.to === phone)?.code;
    },
  };
}

export interface World {
  ctx: TestContext;
  tg: FakeTelegram;
  vk: FakeVk;
  app: App;
  url: string;
  telegram: TelegramChannel;
  vkBot: VkCustomerBot;
  sms: SmsOutbox;
  workers: Worker[];
  close(): Promise<void>;
}

export async function createWorld(options: { workers?: boolean } = {}): Promise<World> {
  const tg = createFakeTelegram({ rateLimits: false, webhookRetry: { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 3, timeoutMs: 20_000 } });
  const apiRoot = await tg.listen();
  tg.createBot({ token: TG_TOKEN, username: 'kabinet_scenarios_bot', firstName: 'Kabinet' });
  const vk = createFakeVk({ callback: { retryDelaysMs: [20, 40, 80, 160, 320], timeoutMs: 20_000 } });
  const vkApiBaseUrl = await vk.listen();
  vk.createGroup({ id: VK_GROUP, token: VK_TOKEN, confirmationCode: VK_CONFIRMATION, secret: VK_SECRET, name: 'Shop VK' });

  const ctx = await createTestContext({
    env: {
      TELEGRAM_BOT_TOKEN: TG_TOKEN,
      TELEGRAM_API_ROOT: apiRoot,
      TELEGRAM_WEBHOOK_SECRET: TG_SECRET,
      VK_GROUP_TOKEN: VK_TOKEN,
      VK_GROUP_ID: String(VK_GROUP),
      VK_CALLBACK_SECRET: VK_SECRET,
      VK_CONFIRMATION_CODE: VK_CONFIRMATION,
      VK_API_BASE_URL: vkApiBaseUrl,
      SHOP_API_SECRET: SHOP_SECRET,
      SHOP_CART_URL_TEMPLATE: CART_TEMPLATE,
      SHOP_NAME: 'Shop <&> Co',
      NOTIFICATION_SEND_BACKOFF_MS: '50',
      ...(process.env.SCENARIO_LOG_LEVEL ? { LOG_LEVEL: process.env.SCENARIO_LOG_LEVEL } : {}),
    },
  });
  const sms = smsOutbox();
  const telegramSender = createTelegramSender({ token: TG_TOKEN, apiRoot });
  const telegram = createTelegramChannel(ctx, { lock: { maxPollMs: 20 } }, { direct: true });
  const vkBot = createVkCustomerBot(ctx, {
    vk: vkClient(vk, VK_TOKEN),
    sms,
    messengers: new Map<Platform, OutboundSender>([['telegram', telegramSender]]),
    bot: { lock: { maxPollMs: 20 } },
    direct: true,
  });
  const shop = createShopServices(ctx);
  await shop.ledger.syncTiers(ctx.prisma);
  const app = await buildApp({
    logger: ctx.logger,
    health: [],
    docs: false,
    plugins: [
      { plugin: telegram.plugin! },
      vkBot.plugin,
      { plugin: shopApiPlugin, options: { prefix: '/api/v1', prisma: ctx.prisma, services: shop, clock: ctx.clock, secrets: [SHOP_SECRET], toleranceSeconds: 300 } },
    ],
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  await telegram.customerBot.bot.init();
  await telegram.customerBot.bot.api.setWebhook(`${url}${TELEGRAM_WEBHOOK_PATH}`, { secret_token: TG_SECRET });
  await vk.setCallbackUrl(VK_GROUP, `${url}${VK_CALLBACK_PATH}`);

  const workers: Worker[] = options.workers
    ? startTestSendWorkers(ctx, {
        senders: new Map<Platform, OutboundSender>([['telegram', telegramSender], ['vk', vkBot.vk.outboundSender]]),
        lockDurationMs: 5000,
      })
    : [];

  return {
    ctx, tg, vk, app, url, telegram, vkBot, sms, workers,
    async close() {
      for (const w of workers) await w.close();
      await app.close();
      await tg.close();
      await vk.close();
      await ctx.close();
    },
  };
}
