/**
 * The queue of alert fan-outs (src/domain/shop-sync/alert-fanout.ts): the shop API queues
 * the fan-outs its transaction recorded; a worker runs each to the end and hands every
 * committed chunk of notifications to the send queues. Job id = fan-out id, so the API's
 * dispatch and the sweeper never queue one twice.
 */
import type { Job } from 'bullmq';
import { createAlertFanout, type FanoutOutcome } from '../domain/shop-sync/alert-fanout.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { QueueFactory } from '../infra/queues.js';
import { QueueName } from '../queues/names.js';
import type { NotificationDispatcher } from './send-queue.js';

export interface AlertFanoutJobData {
  fanoutId: string;
}

export const ALERT_FANOUT_JOB = 'fanout';

export interface AlertFanoutQueueDeps {
  prisma: PrismaClient;
  queues: QueueFactory;
  clock: Clock;
  logger: Logger;
  notifications: Pick<NotificationDispatcher, 'dispatch'>;
  chunkSize?: number;
}

export type AlertFanoutQueue = ReturnType<typeof createAlertFanoutQueue>;

export function createAlertFanoutQueue(deps: AlertFanoutQueueDeps) {
  const runner = createAlertFanout({ prisma: deps.prisma, clock: deps.clock, chunkSize: deps.chunkSize });
  const queue = () => deps.queues.queue<AlertFanoutJobData>(QueueName.alertFanout, { removeOnComplete: { age: 24 * 3600, count: 10_000 }, removeOnFail: { age: 7 * 24 * 3600 } });
  const options = (id: string) => ({ jobId: id, attempts: 5, backoff: { type: 'exponential', delay: 5_000 } });

  return {
    queue,
    runner,

    /** Queues fan-outs recorded by a committed transaction. */
    async dispatch(ids: string[]): Promise<void> {
      if (ids.length) await queue().addBulk(ids.map((fanoutId) => ({ name: ALERT_FANOUT_JOB, data: { fanoutId }, opts: options(fanoutId) })));
    },

    processor: async (job: Job<AlertFanoutJobData>): Promise<FanoutOutcome> => {
      const outcome = await runner.run(job.data.fanoutId, (rows) => deps.notifications.dispatch(rows));
      deps.logger.info({ fanoutId: job.data.fanoutId, ...outcome }, 'alert fan-out done');
      return outcome;
    },

    /** Re-queues fan-outs whose job is gone or failed for good (a crash, Redis lost). */
    async sweep(olderThan: Date): Promise<number> {
      let requeued = 0;
      for (const id of await runner.unfinished(olderThan)) {
        const job = await queue().getJob(id);
        const state = job ? await job.getState() : 'unknown';
        if (state === 'failed' || state === 'completed') await job!.remove().catch(() => undefined);
        if (state === 'unknown' || state === 'failed' || state === 'completed') {
          await queue().add(ALERT_FANOUT_JOB, { fanoutId: id }, options(id));
          requeued += 1;
        }
      }
      return requeued;
    },
  };
}
