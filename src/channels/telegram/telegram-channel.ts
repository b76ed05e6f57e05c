/**
 * The Telegram mouth of the customer bot: builds the brain with Telegram's capabilities and
 * receives updates by webhook (TELEGRAM_WEBHOOK_URL set: setWebhook with the secret on start)
 * or by long polling (local runs).
 */
import type { FastifyPluginAsync } from 'fastify';
import { TELEGRAM_CAPABILITIES } from '../../bot/channel.js';
import { createCustomerBot, type CustomerBot, type CustomerBotDeps } from '../../bot/customer-bot.js';
import type { Infrastructure } from '../../infra/infrastructure.js';
import { createOutboxFromInfra } from '../../outbox/outbox.js';
import { TELEGRAM_WEBHOOK_PATH, telegramWebhookPlugin } from './webhook.plugin.js';

export const ALLOWED_UPDATES = ['message', 'callback_query', 'my_chat_member'] as const;

export interface TelegramChannel {
  customerBot: CustomerBot;
  /** Registered on the web app when a webhook is configured. */
  plugin: FastifyPluginAsync | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createTelegramChannel(infra: Infrastructure, overrides: Partial<CustomerBotDeps> = {}): TelegramChannel {
  const { config, logger } = infra;
  const token = config.telegram.token;
  if (!token) throw new Error('TELEGRAM_BOT_TOKEN is not set');
  const customerBot = createCustomerBot({
    ...infra,
    token,
    apiRoot: config.telegram.apiRoot,
    channel: { platform: 'telegram', capabilities: TELEGRAM_CAPABILITIES },
    // Webhooks the bot's actions write (profile, addresses, repeat order, support) go out at once.
    outbox: createOutboxFromInfra(infra),
    ...overrides,
  });
  const { bot } = customerBot;
  const webhookUrl = config.telegram.webhookUrl;
  const secret = config.telegram.webhookSecret;
  const plugin = secret ? telegramWebhookPlugin({ bot, secretToken: secret, logger }) : undefined;
  let polling: Promise<void> | undefined;

  return {
    customerBot,
    plugin,
    async start() {
      await bot.init();
      if (webhookUrl) {
        const url = new URL(webhookUrl).pathname === '/' ? `${webhookUrl}${TELEGRAM_WEBHOOK_PATH}` : webhookUrl;
        await bot.api.setWebhook(url, { secret_token: secret, allowed_updates: [...ALLOWED_UPDATES] });
        logger.info({ path: new URL(url).pathname }, 'telegram webhook set');
        return;
      }
      await bot.api.deleteWebhook();
      polling = bot.start({ allowed_updates: [...ALLOWED_UPDATES], onStart: () => logger.info('telegram long polling started') });
      polling.catch((err: unknown) => logger.error({ err }, 'telegram long polling stopped'));
    },
    async stop() {
      if (polling) {
        await bot.stop();
        await polling.catch(() => undefined);
      }
    },
  };
}
