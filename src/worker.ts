/**
 * The `worker` role: every BullMQ processor. Workers scale out; BullMQ's limiter holds
 * across all of them.
 */
import type { Worker } from 'bullmq';
import type { Infrastructure } from './infra/infrastructure.js';
import { startShopWorkers } from './notifications/workers.js';
import { createShopServices } from './shop-services.js';
import { vkChannelFromInfra } from './channels/vk/vk-customer-bot.js';
import { createBroadcastWorkers } from './broadcasts/index.js';
import { createCustomerChannels, type CustomerChannels } from './channels/customer-channels.js';
import type { Sandbox } from './sandbox/sandbox.js';
import { startStaffWorkers } from './staff/staff-side.js';

export interface WorkerRole {
  start(): Promise<void>;
  /** Lets running jobs finish, then closes. */
  stop(): Promise<void>;
}

export async function createWorkerRole(infra: Infrastructure, options: { sandbox?: Sandbox | undefined } = {}): Promise<WorkerRole> {
  let workers: Worker[] = [];
  const broadcasts = createBroadcastWorkers(infra);
  let channels: CustomerChannels | undefined;
  return {
    async start() {
      // The customer bot's brain on the updates the web role recorded (durable inbound queue).
      channels = createCustomerChannels(infra, options);
      await channels.startConsuming();
      // Notifications, the outbox to the shop and loyalty maintenance.
      // VK's sender executes the same Telegram-shaped calls through the bridge's method table;
      // each of its requests takes a slot of the token's pacer (high priority, ahead of broadcasts).
      const senders = infra.config.vk.token ? new Map([['vk' as const, vkChannelFromInfra(infra).outboundSender]]) : undefined;
      ({ workers } = await startShopWorkers(infra, createShopServices(infra), { ...(senders ? { senders, pacedSenders: ['vk' as const] } : {}), extraProcessors: broadcasts.extraProcessors, tokenPacers: broadcasts.tokenPacers }));
      // Staff groups (paced posting) and the support sweeper (auto-replies, reminders).
      workers.push(...(await startStaffWorkers(infra)));
      broadcasts.pump.start();
      infra.logger.info({ workers: workers.length }, 'worker started');
    },
    async stop() {
      // Each worker finishes the jobs it is running; no new ones are taken.
      await broadcasts.pump.stop();
      await Promise.all([...workers.map((w) => w.close()), channels?.stopConsuming()]);
    },
  };
}
