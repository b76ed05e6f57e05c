/**
 * The customer bot's mouths as configured: Telegram when TELEGRAM_BOT_TOKEN is set, VK when
 * VK_GROUP_TOKEN is. The `web` role mounts their routes (which record updates in the durable
 * inbound queue and answer at once); the `worker` role runs the brain on what was recorded
 * (`startConsuming`). `npm run dev` does both in one process, on ONE set of channels: the web role
 * and the worker role of a process share them (createCustomerChannels below), so a record whose chat is
 * idle is claimed for this process's consumer in the same Redis call (record, acknowledgement:
 * two calls per update), not published and claimed again by a second copy of the bot.
 */
import type { InboundConsumerOptions } from '../bot/ordering/inbound-queue.js';
import type { Infrastructure } from '../infra/infrastructure.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import { createTelegramSender } from './telegram-sender.js';
import { createTelegramChannel, type TelegramChannel } from './telegram/telegram-channel.js';
import { createVkCustomerBot, type VkCustomerBot } from './vk/vk-customer-bot.js';

export interface CustomerChannels {
  telegram: TelegramChannel | undefined;
  vk: VkCustomerBot | undefined;
  /** Runs the brain on recorded updates of every channel, in this process. */
  startConsuming(options?: Omit<InboundConsumerOptions, 'concurrency'>): Promise<void>;
  stopConsuming(): Promise<void>;
}

const perInfrastructure = new WeakMap<Infrastructure, Map<Sandbox | undefined, CustomerChannels>>();

/**
 * The process's customer channels for these clients: made once and shared by the web role (its
 * routes record) and the worker role (its consumers handle), as `npm run dev` runs both. Another
 * sandbox (tests) gets channels of its own, shared in turn by whoever asks with it.
 */
export function createCustomerChannels(infra: Infrastructure, options: { sandbox?: Sandbox | undefined } = {}): CustomerChannels {
  let bySandbox = perInfrastructure.get(infra);
  if (!bySandbox) perInfrastructure.set(infra, (bySandbox = new Map()));
  let channels = bySandbox.get(options.sandbox);
  if (!channels) bySandbox.set(options.sandbox, (channels = buildCustomerChannels(infra, options)));
  return channels;
}

function buildCustomerChannels(infra: Infrastructure, options: { sandbox?: Sandbox | undefined }): CustomerChannels {
  const { config } = infra;
  const telegram = config.telegram.token ? createTelegramChannel(infra) : undefined;
  let vk: VkCustomerBot | undefined;
  if (config.vk.token) {
    // Login codes may go to the customer's Telegram chat.
    const messengers = config.telegram.token
      ? new Map([['telegram' as const, createTelegramSender({ token: config.telegram.token, apiRoot: config.telegram.apiRoot })]])
      : undefined;
    vk = createVkCustomerBot(infra, { ...(messengers ? { messengers } : {}), ...(options.sandbox ? { sms: options.sandbox.sms } : {}) });
  }
  const concurrency = config.inbound.concurrency;
  return {
    telegram,
    vk,
    async startConsuming(options = {}) {
      await telegram?.startConsuming({ ...options, concurrency });
      await vk?.startConsuming({ ...options, concurrency });
    },
    async stopConsuming() {
      await Promise.all([telegram?.stopConsuming(), vk?.stopConsuming()]);
    },
  };
}
