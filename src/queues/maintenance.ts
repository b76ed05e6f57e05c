/**
 * Periodic jobs on the maintenance queue through BullMQ job schedulers: however many worker
 * processes run, each task runs once per interval. Tasks must be idempotent (a stalled run
 * may repeat).
 */
import type { Worker } from 'bullmq';
import type { Logger } from '../infra/logger.js';
import type { QueueFactory } from '../infra/queues.js';
import { QueueName } from './names.js';

export interface MaintenanceTask {
  everyMs: number;
  run(): Promise<unknown>;
}

export async function startMaintenance(queues: QueueFactory, logger: Logger, tasks: Record<string, MaintenanceTask>): Promise<Worker> {
  const queue = queues.queue(QueueName.maintenance, { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } });
  for (const [name, task] of Object.entries(tasks)) {
    await queue.upsertJobScheduler(name, { every: task.everyMs }, { name, data: {} });
  }
  return queues.worker(QueueName.maintenance, async (job) => {
    const task = tasks[job.name];
    if (!task) return { skipped: `no task ${job.name} in this process` };
    const result = await task.run();
    logger.debug({ task: job.name, result }, 'maintenance task done');
    return result;
  }) as unknown as Worker;
}
