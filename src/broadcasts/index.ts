/**
 * Broadcasts, assembled from the infrastructure: the domain service (web and worker), and
 * in the worker role the send processors that join the per-platform send queues and the
 * pump that feeds them.
 */
import type { Job } from 'bullmq';
import type { VK } from 'vk-io';
import type { OutboundSender, Platform } from '../channels/outbound.js';
import { createTelegramSender } from '../channels/telegram-sender.js';
import { createTelegramTokenPacer, type TokenPacer } from '../channels/token-pacer.js';
import { applyTokenPacer, createVkApi, createVkTokenPacer } from '../channels/vk/vk-api.js';
import { createBroadcastsService, type BroadcastsService } from '../domain/broadcasts/broadcasts.service.js';
import type { Infrastructure } from '../infra/infrastructure.js';
import { SEND_QUEUE } from '../notifications/send-queue.js';
import { createOutcomeRecorder } from './outcomes.js';
import { createBroadcastPump, type BroadcastPump } from './pump.js';
import { createPlaceholderSource } from './render.js';
import { createTelegrafStaffPoster, type StaffPoster } from './reporter.js';
import { BROADCAST_TELEGRAM_JOB, BROADCAST_VK_JOB, createBroadcastProcessors } from './send.processor.js';
import { createVkBatchApi, type VkBatchApi } from './vk-batch.js';

/**
 * A broadcast request gives up after this; a claim twice as old as a possible request
 * (plus a margin) is known to be dead and is taken over.
 */
export const BROADCAST_SEND_TIMEOUT_SECONDS = 30;

/**
 * The broadcast VK client does not pace itself: the token's shared pacer (createVkTokenPacer,
 * the same schedule the VK channel's replies and notifications take their slots from, at high
 * priority; broadcasts take theirs at low) already keeps every process together under
 * VK_RATE_LIMIT, and a second, per-process queue would only bunch requests.
 */
export const VK_CLIENT_UNTHROTTLED = 1000;

export function createBroadcastsFromInfra(infra: Infrastructure, options: { onStarted?: (id: string) => void } = {}): BroadcastsService {
  const placeholders = createPlaceholderSource({ prisma: infra.prisma, translator: infra.translator });
  return createBroadcastsService({
    prisma: infra.prisma,
    clock: infra.clock,
    languages: infra.config.i18n.languages,
    defaultLanguage: infra.config.i18n.defaultLanguage,
    placeholders,
    ...(options.onStarted ? { onStarted: options.onStarted } : {}),
  });
}

/** Messages per second on Telegram (1000 with paid broadcasts) and requests per second on VK. */
export function broadcastRates(config: Infrastructure['config']): Record<Platform, number> {
  return { telegram: config.telegram.paidBroadcast ? 1000 : config.telegram.rateLimitPerSecond, vk: config.vk.rateLimitPerSecond };
}

export interface BroadcastWorkerOptions {
  /** Default: from config (TELEGRAM_BOT_TOKEN). */
  telegram?: OutboundSender;
  /** Default: from config (VK_GROUP_TOKEN), through vk-io. */
  vk?: VkBatchApi | VK;
  /** Default: STAFF_BOT_TOKEN + STAFF_CHAT_ID through Telegraf, when both are set. */
  poster?: StaffPoster;
  /** Default: the bot token's shared pacer (createTelegramTokenPacer) at broadcastRates(config).telegram. */
  telegramPacer?: TokenPacer;
  pumpIntervalMs?: number;
  staleMs?: number;
}

export interface BroadcastWorkers {
  service: BroadcastsService;
  /** For startSendWorkers: the broadcast jobs of each platform's send queue. */
  extraProcessors: Partial<Record<Platform, Record<string, (job: Job, token?: string) => Promise<unknown>>>>;
  /** For startSendWorkers' tokenPacers: the schedule broadcasts spend, for notifications to spend too. */
  tokenPacers: Partial<Record<Platform, TokenPacer>>;
  pump: BroadcastPump;
}

export function createBroadcastWorkers(infra: Infrastructure, options: BroadcastWorkerOptions = {}): BroadcastWorkers {
  const { config, prisma, queues, clock, logger, translator, redis } = infra;
  let pump: BroadcastPump | undefined;
  const service = createBroadcastsFromInfra(infra, { onStarted: () => pump?.poke() });
  const placeholders = createPlaceholderSource({ prisma, translator });
  const outcomes = createOutcomeRecorder({ prisma, clock, logger });
  const processors = createBroadcastProcessors({ prisma, clock, logger, defaultLanguage: config.i18n.defaultLanguage, placeholders, maxAttempts: config.broadcasts.sendAttempts, claimTimeoutMs: BROADCAST_SEND_TIMEOUT_SECONDS * 1000 + 5_000, outcomes });
  const rates = broadcastRates(config);

  const extraProcessors: BroadcastWorkers['extraProcessors'] = {};
  const tokenPacers: BroadcastWorkers['tokenPacers'] = {};
  const platforms: Platform[] = [];
  const telegram = options.telegram ?? (config.telegram.token ? createTelegramSender({ token: config.telegram.token, apiRoot: config.telegram.apiRoot, paidBroadcast: config.telegram.paidBroadcast, timeoutSeconds: BROADCAST_SEND_TIMEOUT_SECONDS }) : undefined);
  if (telegram) {
    // One schedule per bot token in Redis, spent by notifications too (startSendWorkers' tokenPacers).
    const pacer = options.telegramPacer ?? createTelegramTokenPacer({ redis, redisKeyPrefix: config.redisKeyPrefix, token: config.telegram.token ?? 'telegram', ratePerSecond: rates.telegram });
    tokenPacers.telegram = pacer;
    extraProcessors.telegram = { [BROADCAST_TELEGRAM_JOB]: processors.telegram(telegram, pacer) as (job: Job, token?: string) => Promise<unknown> };
    platforms.push('telegram');
  }
  let vk: VkBatchApi | undefined;
  // One schedule per token: broadcasts (low priority), replies and notifications (high) take
  // their slots from it together, in every process.
  const vkPacer = createVkTokenPacer({ redis, redisKeyPrefix: config.redisKeyPrefix, token: config.vk.token ?? 'vk', rateLimitPerSecond: config.vk.rateLimitPerSecond });
  if (options.vk && 'send' in options.vk) vk = options.vk;
  else if (options.vk) {
    applyTokenPacer(options.vk, vkPacer, 'low');
    vk = createVkBatchApi({ vk: options.vk });
  } else if (config.vk.token) vk = createVkBatchApi({ vk: createVkApi({ token: config.vk.token, apiBaseUrl: config.vk.apiBaseUrl, rateLimitPerSecond: VK_CLIENT_UNTHROTTLED, timeoutMs: BROADCAST_SEND_TIMEOUT_SECONDS * 1000, retryLimit: 0, pacer: vkPacer, priority: 'low' }) });
  if (vk) {
    extraProcessors.vk = { [BROADCAST_VK_JOB]: processors.vk(vk, queues.queue(SEND_QUEUE.vk), vkPacer) as (job: Job, token?: string) => Promise<unknown> };
    platforms.push('vk');
  }
  const poster = options.poster ?? (config.staff.token && config.staff.chatIds[0] ? createTelegrafStaffPoster({ token: config.staff.token, chatId: config.staff.chatIds[0], apiRoot: config.telegram.apiRoot }) : undefined);
  pump = createBroadcastPump({
    prisma,
    redis,
    redisKeyPrefix: config.redisKeyPrefix,
    queues,
    clock,
    logger,
    translator,
    service,
    ratePerSecond: rates,
    platforms,
    maxAttempts: config.broadcasts.sendAttempts,
    backoffMs: config.notifications.sendBackoffMs,
    poster,
    progressIntervalMs: config.broadcasts.progressIntervalMs,
    ...(options.pumpIntervalMs ? { intervalMs: options.pumpIntervalMs } : {}),
    ...(options.staleMs ? { staleMs: options.staleMs } : {}),
  });
  return { service, extraProcessors, tokenPacers, pump };
}
