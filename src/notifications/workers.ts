/**
 * Starts everything of the shop integration that runs in the `worker` role: the send
 * workers per platform, the outbox delivery worker, and the periodic sweepers and loyalty
 * jobs. VK plugs in by adding its OutboundSender to `senders`.
 */
import type { Worker } from 'bullmq';
import { createChatPacer, type ChatPacer } from '../channels/chat-pacing.js';
import { createTelegramSender } from '../channels/telegram-sender.js';
import { createTelegramTokenPacer, type TokenPacer } from '../channels/token-pacer.js';
import type { OutboundSender, Platform } from '../channels/outbound.js';
import type { Infrastructure } from '../infra/infrastructure.js';
import { QueueName } from '../queues/names.js';
import { startMaintenance } from '../queues/maintenance.js';
import { pruneExpiredRecords } from '../domain/retention.js';
import type { ShopServices } from '../shop-services.js';
import { createNotificationRenderer } from './render.js';
import { startSendWorkers, type SendWorkerDeps } from './send.worker.js';

export interface ShopWorkersOptions {
  /** Extra senders (VK's bridge sender, test doubles); Telegram's is built from config. */
  senders?: Map<Platform, OutboundSender>;
  /** Other job kinds in the send queues (broadcasts), by platform and job name. */
  extraProcessors?: SendWorkerDeps['extraProcessors'];
  /** The bot tokens' shared pacers (broadcasts pass theirs); Telegram's is built from config otherwise. */
  tokenPacers?: SendWorkerDeps['tokenPacers'];
  /** Senders that pace each request on the token's pacer themselves (the VK channel's). */
  pacedSenders?: SendWorkerDeps['pacedSenders'];
}

export async function startShopWorkers(infra: Infrastructure, shop: ShopServices, options: ShopWorkersOptions = {}): Promise<{ workers: Worker[] }> {
  const { config, prisma, queues, logger, clock, translator } = infra;
  await shop.ledger.syncTiers(prisma);

  const senders = new Map<Platform, OutboundSender>(options.senders ?? []);
  if (config.telegram.token && !senders.has('telegram')) {
    senders.set('telegram', createTelegramSender({ token: config.telegram.token, apiRoot: config.telegram.apiRoot, paidBroadcast: config.telegram.paidBroadcast }));
  }
  // Telegram: ~1 message/s per chat, paced across every worker (Redis), apart from the bot-wide cap.
  const pacers: Partial<Record<Platform, ChatPacer>> = {};
  // The bot-wide cap: one schedule in Redis that broadcasts share (src/channels/token-pacer.ts).
  const tokenPacers: Partial<Record<Platform, TokenPacer>> = { ...options.tokenPacers };
  const ratePerSecond = { telegram: config.telegram.paidBroadcast ? 1000 : config.telegram.rateLimitPerSecond, vk: config.vk.rateLimitPerSecond };
  if (config.telegram.token) {
    const botId = /^(\d+):/.exec(config.telegram.token)?.[1] ?? 'bot';
    pacers.telegram = createChatPacer({ redis: infra.redis, prefix: `${config.redisKeyPrefix}pace:telegram:${botId}:` });
    tokenPacers.telegram ??= createTelegramTokenPacer({ redis: infra.redis, redisKeyPrefix: config.redisKeyPrefix, token: config.telegram.token, ratePerSecond: ratePerSecond.telegram });
  }
  const workers: Worker[] = startSendWorkers({
    pacers,
    tokenPacers,
    prisma,
    queues,
    logger,
    clock,
    render: createNotificationRenderer({ prisma, translator, timeZone: infra.config.timeZone }),
    senders,
    ratePerSecond,
    lockDurationMs: config.queueLockDurationMs,
    ...(options.extraProcessors ? { extraProcessors: options.extraProcessors } : {}),
    ...(options.pacedSenders ? { pacedSenders: options.pacedSenders } : {}),
  });
  workers.push(queues.worker(QueueName.outbox, shop.outbox.processor, { concurrency: 5, lockDuration: Math.max(config.queueLockDurationMs, config.outbox.timeoutMs * 2) }) as unknown as Worker);
  // Alert fan-outs and asynchronous imports are long, set-based jobs: a couple at a time.
  workers.push(queues.worker(QueueName.alertFanout, shop.fanouts.processor, { concurrency: 2, lockDuration: Math.max(config.queueLockDurationMs, 60_000) }) as unknown as Worker);
  workers.push(queues.worker(QueueName.shopImport, shop.importQueue.processor, { concurrency: 1, lockDuration: Math.max(config.queueLockDurationMs, 120_000) }) as unknown as Worker);
  workers.push(
    await startMaintenance(queues, logger, {
      'outbox-sweep': { everyMs: config.outbox.sweepIntervalMs, run: () => shop.outbox.sweep() },
      // Fan-outs and imports whose job was lost (a crash between commit and queueing).
      'shop-jobs-sweep': {
        everyMs: config.notifications.sweepIntervalMs,
        run: async () => {
          const olderThan = new Date(clock.now().getTime() - config.notifications.sweepGraceMs);
          return { fanouts: await shop.fanouts.sweep(olderThan), imports: await shop.importQueue.sweep(new Date(clock.now().getTime() - 15 * 60_000)) };
        },
      },
      'notification-sweep': { everyMs: config.notifications.sweepIntervalMs, run: () => shop.notifications.sweep(new Date(clock.now().getTime() - config.notifications.sweepGraceMs)) },
      // Dedup ids, delivered webhooks (they carry phones), sent notifications, used login codes.
      retention: { everyMs: 6 * 3600 * 1000, run: () => pruneExpiredRecords(prisma, clock, config.retention) },
      'loyalty-expiry': {
        everyMs: config.loyaltyMaintenanceIntervalMs,
        run: async () => {
          const expired = await shop.ledger.expireDue(prisma);
          const warned = await shop.ledger.warnExpiring(prisma);
          await shop.notifications.dispatch(warned);
          return { ...expired, warned: warned.length };
        },
      },
    }),
  );
  return { workers };
}
