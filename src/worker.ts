/**
 * The `worker` role: every BullMQ processor. Workers scale out; BullMQ's limiter holds
 * across all of them.
 */
import type { Infrastructure } from './infra/infrastructure.js';
import { startShopWorkers } from './notifications/workers.js';
import { createShopServices } from './shop-services.js';
import { vkChannelFromInfra } from './channels/vk/vk-customer-bot.js';

export interface WorkerRole {
  start(): Promise<void>;
  /** Lets running jobs finish, then closes. */
  stop(): Promise<void>;
}

export async function createWorkerRole(infra: Infrastructure): Promise<WorkerRole> {
  const stops: Array<() => Promise<void>> = [];
  return {
    async start() {
      // Notifications, the outbox to the shop and loyalty maintenance (issue 4).
      // VK's sender executes the same Telegram-shaped calls through the bridge's method table.
      const senders = infra.config.vk.token ? new Map([['vk' as const, vkChannelFromInfra(infra).outboundSender]]) : undefined;
      await startShopWorkers(infra, createShopServices(infra), senders ? { senders } : {});
      infra.logger.info('worker started');
    },
    async stop() {
      for (const stop of stops.reverse()) await stop();
    },
  };
}
