/**
 * BullMQ queue and worker factory. One prefix for every queue (default "{kabinet}": the
 * braces are a Redis Cluster hash tag, so each queue's keys land in one slot). Producers
 * share one fail-fast connection; each worker gets its own blocking connection.
 */
import { Queue, QueueEvents, Worker, type JobsOptions, type Processor, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from './logger.js';
import { createRedis } from './redis.js';

export interface QueueFactorySettings {
  redisUrl: string;
  prefix: string;
  logger: Logger;
  /** Shared producer connection (fail fast, offline queue off). */
  connection: Redis;
}

export interface QueueFactory {
  readonly prefix: string;
  queue<T = unknown>(name: string, defaultJobOptions?: JobsOptions): Queue<T>;
  worker<T = unknown>(name: string, processor: Processor<T>, options?: Omit<WorkerOptions, 'connection' | 'prefix'>): Worker<T>;
  events(name: string): QueueEvents;
  /** Closes workers first (they finish their current jobs), then queues and connections. */
  close(): Promise<void>;
}

export function createQueueFactory(settings: QueueFactorySettings): QueueFactory {
  const queues = new Map<string, Queue>();
  const workers: Worker[] = [];
  const events: QueueEvents[] = [];
  const ownConnections: Redis[] = [];

  const blocking = (name: string) => {
    const conn = createRedis({ url: settings.redisUrl, role: 'worker', name });
    ownConnections.push(conn);
    return conn;
  };

  return {
    prefix: settings.prefix,
    queue<T>(name: string, defaultJobOptions?: JobsOptions): Queue<T> {
      let q = queues.get(name);
      if (!q) {
        q = new Queue(name, {
          connection: settings.connection,
          prefix: settings.prefix,
          defaultJobOptions: {
            removeOnComplete: { age: 24 * 3600, count: 10_000 },
            removeOnFail: { age: 7 * 24 * 3600 },
            ...defaultJobOptions,
          },
        });
        q.on('error', (err) => settings.logger.error({ err, queue: name }, 'queue error'));
        queues.set(name, q);
      }
      return q as unknown as Queue<T>;
    },
    worker<T>(name: string, processor: Processor<T>, options?: Omit<WorkerOptions, 'connection' | 'prefix'>): Worker<T> {
      const w = new Worker<T>(name, processor, {
        ...options,
        connection: blocking(`worker:${name}`),
        prefix: settings.prefix,
      });
      w.on('error', (err) => settings.logger.error({ err, queue: name }, 'worker error'));
      w.on('failed', (job, err) => {
        settings.logger.warn({ queue: name, jobId: job?.id, attempts: job?.attemptsMade, err: { message: err.message, name: err.name } }, 'job failed');
      });
      workers.push(w as unknown as Worker);
      return w;
    },
    events(name: string): QueueEvents {
      const e = new QueueEvents(name, { connection: blocking(`events:${name}`), prefix: settings.prefix });
      events.push(e);
      return e;
    },
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all(events.map((e) => e.close()));
      await Promise.all([...queues.values()].map((q) => q.close()));
      await Promise.all(ownConnections.map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}
