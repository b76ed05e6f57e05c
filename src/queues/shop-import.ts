/**
 * The queue of asynchronous batch imports (src/domain/shop-sync/import-jobs.ts). Job id =
 * import job id. A job that keeps failing is marked failed on the row with the reason, so
 * GET /api/v1/jobs/{id} never shows "running" forever.
 */
import type { Job } from 'bullmq';
import type { ImportJobs } from '../domain/shop-sync/import-jobs.js';
import type { AfterWrite } from '../domain/shop-sync/shop-sync.js';
import type { Logger } from '../infra/logger.js';
import type { QueueFactory } from '../infra/queues.js';
import { QueueName } from './names.js';

export interface ShopImportJobData {
  importJobId: string;
}

export const SHOP_IMPORT_JOB = 'import';
const ATTEMPTS = 3;

export type ShopImportQueue = ReturnType<typeof createShopImportQueue>;

export function createShopImportQueue(deps: { queues: QueueFactory; imports: ImportJobs; logger: Logger; after: (a: AfterWrite) => Promise<void> }) {
  const queue = () => deps.queues.queue<ShopImportJobData>(QueueName.shopImport, { removeOnComplete: { age: 24 * 3600, count: 1000 }, removeOnFail: { age: 7 * 24 * 3600 } });
  const options = (id: string) => ({ jobId: id, attempts: ATTEMPTS, backoff: { type: 'exponential', delay: 10_000 } });

  return {
    queue,

    async dispatch(importJobId: string): Promise<void> {
      await queue().add(SHOP_IMPORT_JOB, { importJobId }, options(importJobId));
    },

    processor: async (job: Job<ShopImportJobData>) => {
      try {
        return await deps.imports.run(job.data.importJobId, deps.after);
      } catch (err) {
        if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
          await deps.imports.fail(job.data.importJobId, err instanceof Error ? err.message : String(err));
        }
        deps.logger.error({ err, importJobId: job.data.importJobId }, 'shop import failed');
        throw err;
      }
    },

    /** Re-queues jobs whose queue entry was lost (queued or running on the row, no live job). */
    async sweep(olderThan: Date): Promise<number> {
      let requeued = 0;
      for (const id of await deps.imports.stuck(olderThan)) {
        const job = await queue().getJob(id);
        const state = job ? await job.getState() : 'unknown';
        if (state === 'unknown' || state === 'completed') {
          if (job) await job.remove().catch(() => undefined);
          await queue().add(SHOP_IMPORT_JOB, { importJobId: id }, options(id));
          requeued += 1;
        }
      }
      return requeued;
    },
  };
}
