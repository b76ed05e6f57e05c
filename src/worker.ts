/**
 * The `worker` role: every BullMQ processor. Workers scale out; BullMQ's limiter holds
 * across all of them.
 */
import type { Infrastructure } from './infra/infrastructure.js';

export interface WorkerRole {
  start(): Promise<void>;
  /** Lets running jobs finish, then closes. */
  stop(): Promise<void>;
}

export async function createWorkerRole(infra: Infrastructure): Promise<WorkerRole> {
  const stops: Array<() => Promise<void>> = [];
  return {
    async start() {
      infra.logger.info('worker started');
    },
    async stop() {
      for (const stop of stops.reverse()) await stop();
    },
  };
}
