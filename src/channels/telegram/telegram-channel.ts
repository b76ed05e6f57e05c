/**
 * The Telegram mouth of the customer bot: builds the brain with Telegram's capabilities and
 * receives updates by webhook (TELEGRAM_WEBHOOK_URL set: setWebhook with the secret on start)
 * or by long polling (local runs).
 *
 * Webhook updates are recorded in the durable inbound queue and answered at once (`web`);
 * `startConsuming` runs the brain on them (`worker`; `npm run dev` runs both). `direct: true`
 * handles each update before answering instead (tests of the brain).
 */
import type { FastifyPluginAsync } from 'fastify';
import { TELEGRAM_CAPABILITIES } from '../../bot/channel.js';
import { createCustomerBot, type CustomerBot, type CustomerBotDeps } from '../../bot/customer-bot.js';
import type { Infrastructure } from '../../infra/infrastructure.js';
import { createOutboxFromInfra } from '../../outbox/outbox.js';
import { createInboundQueue, type InboundConsumerOptions, type InboundQueue } from '../../bot/ordering/inbound-queue.js';
import { consumeTelegramUpdates } from './inbound.js';
import { TELEGRAM_WEBHOOK_PATH, telegramWebhookPlugin } from './webhook.plugin.js';

export const ALLOWED_UPDATES = ['message', 'callback_query', 'my_chat_member'] as const;

export interface TelegramChannel {
  customerBot: CustomerBot;
  /** Registered on the web app when a webhook is configured. */
  plugin: FastifyPluginAsync | undefined;
  /** Where the webhook records updates (undefined with `direct`). */
  inbound: InboundQueue | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Runs the brain on recorded updates in this process (the worker role). */
  startConsuming(options?: InboundConsumerOptions): Promise<void>;
  /** Finishes the running updates and stops taking more. */
  stopConsuming(): Promise<void>;
}

export interface TelegramChannelOptions {
  /** Handle each webhook update before answering (no inbound queue). */
  direct?: boolean;
  /** Inbound queue tuning (tests shorten the lease). */
  inbound?: Partial<Parameters<typeof createInboundQueue>[0]>;
}

export function createTelegramChannel(infra: Infrastructure, overrides: Partial<CustomerBotDeps> = {}, options: TelegramChannelOptions = {}): TelegramChannel {
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
  const inbound = options.direct
    ? undefined
    : createInboundQueue({ redis: infra.redis, prefix: `${customerBot.keyPrefix}in:`, logger, ...options.inbound });
  const plugin = secret ? telegramWebhookPlugin({ bot, secretToken: secret, logger, inbound }) : undefined;
  let polling: Promise<void> | undefined;

  return {
    customerBot,
    plugin,
    inbound,
    async startConsuming(consumerOptions) {
      if (!inbound) return;
      consumeTelegramUpdates(bot, inbound, { ...consumerOptions, readPrefixes: customerBot.readPrefixes });
    },
    async stopConsuming() {
      await inbound?.stop();
    },
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
