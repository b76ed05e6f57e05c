/**
 * The VK mouth of the customer bot: the same brain as Telegram (createCustomerBot), with
 * VK's capabilities, the phone + one-time-code login, and the bridge's transformer installed
 * on its Api, so every outgoing call becomes a VK call. Events arrive through the Callback
 * API plugin, which records them in the durable inbound queue and answers "ok" at once;
 * `startConsuming` (the worker role) converts them and runs `bot.handleUpdate` — which dedupes
 * and takes the per-chat lock. `direct: true` handles each event before "ok" instead (tests).
 */
import type { Update } from 'grammy/types';
import type { VK } from 'vk-io';
import { phoneCodeLoginStrategy } from '../../bot/conversations/phone-code-login.conversation.js';
import { createCustomerBot, type CustomerBot, type CustomerBotDeps } from '../../bot/customer-bot.js';
import { createIdentitiesService } from '../../domain/customers/identities.js';
import { createPhoneLoginService, type PhoneLoginService } from '../../domain/phone-login/phone-login.service.js';
import type { Infrastructure } from '../../infra/infrastructure.js';
import { afterCommitDispatcher } from '../../outbox/enqueue.js';
import { createOutboxFromInfra } from '../../outbox/outbox.js';
import { createCodeDelivery } from '../../sms/code-delivery.js';
import type { SmsSender } from '../../sms/index.js';
import type { OutboundSender, Platform } from '../outbound.js';
import { createInboundQueue, type InboundConsumerOptions, type InboundQueue, type InboundQueueOptions } from '../../bot/ordering/inbound-queue.js';
import { createBridgeFetch } from './bridge-fetch.js';
import { consumeVkEvents, createVkEventHandler } from './callback-route.js';
import { createVkChannel, VK_CHANNEL, type VkChannel } from './index.js';

export const VK_CALLBACK_PATH = '/vk/callback';

export interface VkCustomerBotOptions {
  /** A prepared vk-io client (tests pass one bound to the fake's agent). */
  vk?: VK;
  /** Messenger senders that may carry a login code (Telegram's). */
  messengers?: Map<Platform, OutboundSender>;
  sms?: SmsSender;
  /** Brain overrides (lock tuning in tests). */
  bot?: Partial<CustomerBotDeps>;
  path?: string;
  download?: (url: string) => Promise<Buffer>;
  /** Handle each event before answering (no inbound queue). */
  direct?: boolean;
  /** Inbound queue tuning (tests shorten the lease). */
  inbound?: Partial<InboundQueueOptions>;
}

export interface VkCustomerBot {
  vk: VkChannel;
  customerBot: CustomerBot;
  phoneLogin: PhoneLoginService;
  /** Hands one converted update to the brain; resolves when it was handled. */
  handleUpdate(update: Update): Promise<void>;
  plugin: ReturnType<VkChannel['callbackPlugin']>;
  /** Where the callback route records events (undefined with `direct`). */
  inbound: InboundQueue | undefined;
  /** Runs the brain on recorded events in this process (the worker role). */
  startConsuming(options?: InboundConsumerOptions): Promise<void>;
  stopConsuming(): Promise<void>;
}

/** The VK channel alone (the worker needs only its OutboundSender). */
export function vkChannelFromInfra(infra: Infrastructure, options: Pick<VkCustomerBotOptions, 'vk' | 'download'> = {}): VkChannel {
  const { config } = infra;
  const vk = config.vk;
  if (!vk.token || !vk.groupId || !vk.callbackSecret || !vk.confirmationCode) throw new Error('VK_GROUP_TOKEN, VK_GROUP_ID, VK_CALLBACK_SECRET and VK_CONFIRMATION_CODE are required');
  return createVkChannel({
    groupId: vk.groupId,
    token: vk.token,
    apiBaseUrl: vk.apiBaseUrl,
    rateLimitPerSecond: vk.rateLimitPerSecond,
    callbackSecret: vk.callbackSecret,
    confirmationCode: vk.confirmationCode,
    redis: infra.redis,
    redisKeyPrefix: config.redisKeyPrefix,
    prisma: infra.prisma,
    clock: infra.clock,
    logger: infra.logger,
    ...(options.vk ? { vk: options.vk } : {}),
    ...(options.download ? { download: options.download } : {}),
  });
}

export function createVkCustomerBot(infra: Infrastructure, options: VkCustomerBotOptions = {}): VkCustomerBot {
  const { config, prisma, redis, clock, logger, translator } = infra;
  const vk = vkChannelFromInfra(infra, options);
  const groupId = config.vk.groupId!;
  // Webhooks the bot's actions write (login link, profile, ...) go out right after commit.
  const outbox = options.bot?.outbox ?? createOutboxFromInfra(infra);
  const identities = createIdentitiesService({
    prisma,
    clock,
    resolveLanguage: (c) => translator.resolveLanguage(c),
    outbox: afterCommitDispatcher(outbox, (err) => logger.warn({ err }, 'outbox dispatch failed; the sweeper will deliver')),
    dormantAfterDays: config.login.dormantAfterDays,
  });
  const phoneLogin = createPhoneLoginService({
    prisma,
    redis,
    clock,
    logger,
    identities,
    delivery: createCodeDelivery({ config, logger, translator, ...(options.messengers ? { messengers: options.messengers } : {}), ...(options.sms ? { sms: options.sms } : {}) }),
    secret: config.otp.secret,
    keyPrefix: config.redisKeyPrefix,
    limits: config.otp,
  });
  const customerBot = createCustomerBot({
    ...infra,
    // grammY needs a token string; it is never sent anywhere (the transformer answers every call).
    token: `vk-community-${groupId}`,
    botKey: `vk:${groupId}`,
    channel: VK_CHANNEL,
    phoneLogin: phoneCodeLoginStrategy(phoneLogin),
    // Conversations build their own Api from these options: the bridge must be in them.
    client: { fetch: createBridgeFetch(vk.bridge) },
    outbox,
    ...options.bot,
  });
  const { bot } = customerBot;
  bot.api.config.use(vk.transformer);

  let init: Promise<void> | undefined;
  async function handleUpdate(update: Update): Promise<void> {
    // getMe goes through the table too (groups.getById), once.
    if (!bot.isInited()) {
      init ??= bot.init().catch((err: unknown) => {
        init = undefined;
        throw err;
      });
      await init;
    }
    await bot.handleUpdate(update);
  }

  const inbound = options.direct
    ? undefined
    : createInboundQueue({ redis, prefix: `${customerBot.keyPrefix}in:`, logger, ...options.inbound });
  const plugin = vk.callbackPlugin(handleUpdate, { path: options.path ?? VK_CALLBACK_PATH, inbound });
  return {
    vk,
    customerBot,
    phoneLogin,
    handleUpdate,
    plugin,
    inbound,
    async startConsuming(consumerOptions) {
      if (!inbound) return;
      const handleEvent = createVkEventHandler({ converter: vk.converter, bridge: vk.bridge, handleUpdate, setPermission: vk.setPermission, logger });
      consumeVkEvents(inbound, handleEvent, { ...consumerOptions, readPrefixes: customerBot.readPrefixes });
    },
    async stopConsuming() {
      await inbound?.stop();
    },
  };
}
