/**
 * Starts everything of the shop integration that runs in the `worker` role: the send
 * workers per platform, the outbox delivery worker, and the periodic sweepers and loyalty
 * jobs. VK plugs in by adding its OutboundSender to `senders`.
 */
import type { Worker } from 'bullmq';
import { createTelegramSender } from '../channels/telegram-sender.js';
import type { OutboundSender, Platform } from '../channels/outbound.js';
import type { Infrastructure } from '../infra/infrastructure.js';
import { QueueName } from '../queues/names.js';
import { startMaintenance } from '../queues/maintenance.js';
import { pruneExpiredRecords } from '../domain/retention.js';
import type { ShopServices } from '../shop-services.js';
import { createNotificationRenderer } from './render.js';
import { startSendWorkers } from './send.worker.js';

export interface ShopWorkersOptions {
  /** Extra senders (VK's bridge sender, test doubles); Telegram's is built from config. */
  senders?: Map<Platform, OutboundSender>;
}

export async function startShopWorkers(infra: Infrastructure, shop: ShopServices, options: ShopWorkersOptions = {}): Promise<{ workers: Worker[] }> {
  const { config, prisma, queues, logger, clock, translator } = infra;
  await shop.ledger.syncTiers(prisma);

  const senders = new Map<Platform, OutboundSender>(options.senders ?? []);
  if (config.telegram.token && !senders.has('telegram')) {
    senders.set('telegram', createTelegramSender({ token: config.telegram.token, apiRoot: config.telegram.apiRoot, paidBroadcast: config.telegram.paidBroadcast }));
  }
  const workers: Worker[] = startSendWorkers({
    prisma,
    queues,
    logger,
    clock,
    render: createNotificationRenderer({ prisma, translator, timeZone: infra.config.timeZone }),
    senders,
    ratePerSecond: { telegram: config.telegram.paidBroadcast ? 1000 : config.telegram.rateLimitPerSecond, vk: config.vk.rateLimitPerSecond },
    lockDurationMs: config.queueLockDurationMs,
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
