/**
 * The operator side, assembled from the infrastructure: the support services, the staff-group
 * poster, delivery to customers on Telegram and VK, and the staff bot with its webhook route
 * (STAFF_WEBHOOK_URL + STAFF_WEBHOOK_SECRET) or long polling. The worker role starts the
 * staff-group workers and the support sweeper (startStaffWorkers).
 */
import type { Worker } from 'bullmq';
import type { FastifyPluginAsync } from 'fastify';
import { Telegram } from 'telegraf';
import type { VK } from 'vk-io';
import type { Platform } from '../channels/outbound.js';
import { vkChannelFromInfra } from '../channels/vk/vk-customer-bot.js';
import { createCardQueries } from '../domain/support/card.js';
import { createStaffService } from '../domain/support/staff.service.js';
import { createSupportService } from '../domain/support/support.service.js';
import { parseWorkingHours } from '../domain/support/hours.js';
import type { Infrastructure } from '../infra/infrastructure.js';
import { afterCommitDispatcher } from '../outbox/enqueue.js';
import { createOutboxFromInfra } from '../outbox/outbox.js';
import { createBroadcastsFromInfra } from '../broadcasts/index.js';
import { createPlaceholderSource } from '../broadcasts/render.js';
import { createBroadcastWizardFeature } from './broadcast-wizard.feature.js';
import type { StaffFeature, StaffKit, StaffServices } from './context.js';
import { telegramCustomerMessenger, vkCustomerMessenger, type CustomerMessenger } from './customer-delivery.js';
import { createFileSource, telegramFiles } from './files.js';
import { createGroupLimiter } from './group-limiter.js';
import { createOperatorReplies } from './operator-replies.js';
import { createOperatorReplyQueue, startOperatorReplyWorker } from './operator-reply.queue.js';
import { createStaffBot, type StaffBot } from './staff-bot.js';
import { startStaffGroupWorkers } from './staff-group.worker.js';
import { createStaffGroupPoster } from './staff-posts.js';
import { startSupportSweeper } from './support-sweeper.js';
import { STAFF_WEBHOOK_PATH, staffWebhookPlugin } from './webhook.plugin.js';

export const STAFF_ALLOWED_UPDATES = ['message', 'callback_query'] as const;

export interface StaffSideOptions {
  /** A prepared vk-io client (tests pass one bound to the fake). */
  vk?: VK;
  /** More staff bot features (e.g. the broadcast wizard). */
  features?: StaffFeature[];
  /** Override the customer messengers (tests). */
  messengers?: Map<Platform, CustomerMessenger>;
}

/** The services both roles use; no bot, no workers. */
export function createStaffServices(infra: Infrastructure, options: StaffSideOptions = {}): StaffServices & { kit: StaffKit } {
  const { config, prisma, clock, logger, queues, translator } = infra;
  const outbox = afterCommitDispatcher(createOutboxFromInfra(infra), (err, ids) => logger.warn({ err, outboxIds: ids }, 'outbox dispatch failed; the sweeper will deliver'));
  const support = createSupportService({ prisma, clock, outbox });
  const poster = createStaffGroupPoster({ queues, support, chatIds: config.staff.chatIds });
  const messengers = options.messengers ?? new Map<Platform, CustomerMessenger>();
  if (!options.messengers) {
    if (config.telegram.token) messengers.set('telegram', telegramCustomerMessenger({ token: config.telegram.token, apiRoot: config.telegram.apiRoot }));
    if (config.vk.token) messengers.set('vk', vkCustomerMessenger(vkChannelFromInfra(infra, options.vk ? { vk: options.vk } : {}).bridge));
  }
  const files = createFileSource({
    ...(config.telegram.token ? { telegram: telegramFiles({ token: config.telegram.token, apiRoot: config.telegram.apiRoot }) } : {}),
    ...(config.staff.token ? { staff: telegramFiles({ token: config.staff.token, apiRoot: config.telegram.apiRoot }) } : {}),
  });
  const replies = createOperatorReplies({ support, messengers, files, poster, translator, staffLanguage: config.i18n.defaultLanguage, logger });
  const replyQueue = createOperatorReplyQueue({ queues });
  const services: StaffServices = { support, staff: createStaffService({ prisma }), cards: createCardQueries({ prisma }), poster, replies, replyQueue };
  const kit: StaffKit = { services, translator, logger, language: config.i18n.defaultLanguage, timeZone: config.timeZone, chatIds: config.staff.chatIds };
  return { ...services, kit };
}

/** The staff bot's features that need more than the kit: the admins' broadcast wizard. */
export function staffFeaturesFromInfra(infra: Infrastructure): StaffFeature[] {
  const { config, prisma, redis, clock, translator } = infra;
  return [
    createBroadcastWizardFeature({
      broadcasts: createBroadcastsFromInfra(infra),
      redis,
      redisKeyPrefix: config.redisKeyPrefix,
      clock,
      languages: config.i18n.languages,
      defaultLanguage: config.i18n.defaultLanguage,
      placeholders: createPlaceholderSource({ prisma, translator }),
    }),
  ];
}

export interface StaffChannel {
  staffBot: StaffBot;
  services: StaffServices;
  plugin: FastifyPluginAsync | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The staff bot for the web role: webhook route when a secret is set, long polling when no URL. */
export function createStaffChannel(infra: Infrastructure, options: StaffSideOptions = {}): StaffChannel {
  const { config, logger, redis } = infra;
  const token = config.staff.token;
  if (!token) throw new Error('STAFF_BOT_TOKEN is not set');
  const { kit, ...services } = createStaffServices(infra, options);
  const staffBot = createStaffBot({
    ...kit,
    token,
    apiRoot: config.telegram.apiRoot,
    userIds: config.staff.userIds,
    adminIds: config.staff.adminIds,
    redis,
    redisKeyPrefix: config.redisKeyPrefix,
    features: [...staffFeaturesFromInfra(infra), ...(options.features ?? [])],
  });
  const secret = config.staff.webhookSecret;
  const plugin = secret ? staffWebhookPlugin({ secretToken: secret, handleUpdate: staffBot.handleUpdate, logger }) : undefined;
  let polling = false;
  return {
    staffBot,
    services,
    plugin,
    async start() {
      const { bot } = staffBot;
      bot.botInfo ??= await bot.telegram.getMe();
      const url = config.staff.webhookUrl;
      if (url) {
        const full = new URL(url).pathname === '/' ? `${url}${STAFF_WEBHOOK_PATH}` : url;
        await bot.telegram.setWebhook(full, { secret_token: secret, allowed_updates: [...STAFF_ALLOWED_UPDATES] });
        logger.info({ path: new URL(full).pathname }, 'staff webhook set');
        return;
      }
      await bot.telegram.deleteWebhook();
      polling = true;
      // Resolves only when polling stops; failures are logged, not thrown into start().
      bot.launch({ allowedUpdates: [...STAFF_ALLOWED_UPDATES] }, () => logger.info('staff bot long polling started')).catch((err: unknown) => logger.error({ err }, 'staff bot long polling stopped'));
    },
    async stop() {
      if (!polling) return;
      polling = false;
      staffBot.bot.stop('shutdown');
    },
  };
}

/** The worker role's part: one paced worker per staff group, operators' answers, and the support sweeper. */
export async function startStaffWorkers(infra: Infrastructure, options: StaffSideOptions = {}): Promise<Worker[]> {
  const { config, redis, logger, queues, translator } = infra;
  const token = config.staff.token;
  if (!token) return [];
  const { kit, ...services } = createStaffServices(infra, options);
  const telegram = new Telegram(token, { apiRoot: config.telegram.apiRoot });
  const limiter = createGroupLimiter({ redis, prefix: config.redisKeyPrefix, max: config.staff.groupRateLimit, windowMs: config.staff.groupRateWindowMs });
  const files = createFileSource({
    ...(config.telegram.token ? { telegram: telegramFiles({ token: config.telegram.token, apiRoot: config.telegram.apiRoot }) } : {}),
    staff: telegramFiles({ token, apiRoot: config.telegram.apiRoot }),
  });
  const workers = startStaffGroupWorkers({
    queues,
    redis,
    redisKeyPrefix: config.redisKeyPrefix,
    telegram,
    support: services.support,
    cards: services.cards,
    files,
    limiter,
    translator,
    staffLanguage: kit.language,
    timeZone: config.timeZone,
    logger,
    chatIds: config.staff.chatIds,
    lockDurationMs: config.queueLockDurationMs,
  });
  const replyWorker = startOperatorReplyWorker({
    queues,
    redis,
    redisKeyPrefix: config.redisKeyPrefix,
    support: services.support,
    replies: services.replies,
    logger,
    lockDurationMs: config.queueLockDurationMs,
  });
  const sweeper = await startSupportSweeper({
    queues,
    logger,
    services,
    hours: parseWorkingHours(config.support.hours, config.timeZone),
    autoReplyAfterSeconds: config.support.autoReplyAfterSeconds,
    reminderAfterSeconds: config.support.reminderAfterSeconds,
    everyMs: config.support.sweepIntervalMs,
    timeZone: config.timeZone,
  });
  return [...workers, replyWorker, sweeper];
}
