/**
 * The per-platform send queues. A job is `{ notificationId }` with jobId = the notification
 * id, so queuing the same row twice (after-commit dispatch and the sweeper, or a replayed
 * event) is a no-op in BullMQ.
 */
import type { JobsOptions, Queue } from 'bullmq';
import type { Platform } from '../channels/outbound.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from '../infra/logger.js';
import type { QueueFactory } from '../infra/queues.js';
import { QueueName } from '../queues/names.js';
import type { PendingNotification } from './producer.js';

export const SEND_QUEUE: Record<Platform, string> = { telegram: QueueName.sendTelegram, vk: QueueName.sendVk };

/** Job name in the send queues for a Notification row. */
export const NOTIFICATION_JOB = 'notification';

export interface SendJobData {
  notificationId: string;
  /** Set by the worker: the epoch ms of the chat slot this message holds (per-chat pacing). */
  slotAt?: number;
}

export interface NotificationDispatcherDeps {
  prisma: PrismaClient;
  queues: QueueFactory;
  logger: Logger;
  sendAttempts: number;
  sendBackoffMs: number;
}

export type NotificationDispatcher = ReturnType<typeof createNotificationDispatcher>;

export function createNotificationDispatcher(deps: NotificationDispatcherDeps) {
  const jobOptions = (id: string): JobsOptions => ({
    jobId: id,
    attempts: deps.sendAttempts,
    backoff: { type: 'exponential', delay: deps.sendBackoffMs, jitter: 0.5 },
  });
  const queueFor = (platform: Platform): Queue<SendJobData> => deps.queues.queue<SendJobData>(SEND_QUEUE[platform]);

  return {
    queueFor,

    /** Queues rows written by a committed transaction. */
    async dispatch(rows: PendingNotification[]): Promise<void> {
      const byPlatform = new Map<Platform, PendingNotification[]>();
      for (const row of rows) byPlatform.set(row.platform, [...(byPlatform.get(row.platform) ?? []), row]);
      for (const [platform, list] of byPlatform) {
        // One row (a status change's usual lot): a plain add, without addBulk's MULTI wrapper.
        if (list.length === 1) {
          await queueFor(platform).add(NOTIFICATION_JOB, { notificationId: list[0]!.id }, jobOptions(list[0]!.id));
          continue;
        }
        for (let i = 0; i < list.length; i += 1000) {
          await queueFor(platform).addBulk(list.slice(i, i + 1000).map((r) => ({ name: NOTIFICATION_JOB, data: { notificationId: r.id }, opts: jobOptions(r.id) })));
        }
      }
    },

    /**
     * Finds pending rows whose job is gone (the process died between commit and dispatch, or
     * a job failed for good without updating its row) and queues them again. Rows interrupted
     * mid-send are queued too: their job resends them (at least once). A row that has spent
     * its attempts (counted on the row, across re-queues) and whose job failed is marked
     * failed with the job's error instead of being re-queued forever.
     */
    async sweep(olderThan: Date, limit = 1000): Promise<number> {
      const rows = await deps.prisma.notification.findMany({
        where: { status: 'pending', updatedAt: { lt: olderThan } },
        select: { id: true, attempts: true, error: true, identity: { select: { platform: true } } },
        orderBy: { createdAt: 'asc' },
        take: limit,
      });
      let requeued = 0;
      let gaveUp = 0;
      for (const row of rows) {
        const queue = queueFor(row.identity.platform);
        const job = await queue.getJob(row.id);
        const state = job ? await job.getState() : 'unknown';
        if (state === 'failed' && row.attempts >= deps.sendAttempts) {
          const reason = job?.failedReason || row.error || 'unknown error';
          await deps.prisma.notification.updateMany({
            where: { id: row.id, status: 'pending' },
            data: { status: 'failed', sendingAt: null, error: `gave up after ${row.attempts} attempts: ${reason}`.slice(0, 500) },
          });
          gaveUp += 1;
        } else if (state === 'unknown') {
          await queue.add(NOTIFICATION_JOB, { notificationId: row.id }, jobOptions(row.id));
          requeued += 1;
        } else if (state === 'failed' || state === 'completed') {
          await job!.remove().catch(() => undefined);
          await queue.add(NOTIFICATION_JOB, { notificationId: row.id }, jobOptions(row.id));
          requeued += 1;
        }
      }
      if (gaveUp) deps.logger.warn({ gaveUp }, 'notification sweeper marked notifications failed after their attempts');
      if (requeued) deps.logger.warn({ requeued }, 'notification sweeper re-queued pending notifications');
      return requeued;
    },
  };
}
