/**
 * The notification send workers as the worker role starts them, on a test's context: its
 * database, queues, logger, clock and the real renderer, at the default caps (Telegram 30/s,
 * VK 20/s). A test gives its senders and whatever else it changes (pacers, leases, processors).
 */
import type { Worker } from 'bullmq';
import { createNotificationRenderer } from '../../src/notifications/render.js';
import { startSendWorkers, type SendWorkerDeps } from '../../src/notifications/send.worker.js';
import type { TestContext } from './context.js';

export function startTestSendWorkers(ctx: TestContext, deps: Pick<SendWorkerDeps, 'senders'> & Partial<Omit<SendWorkerDeps, 'senders'>>): Worker[] {
  return startSendWorkers({
    prisma: ctx.prisma,
    queues: ctx.queues,
    logger: ctx.logger,
    clock: ctx.clock,
    render: createNotificationRenderer({ prisma: ctx.prisma, translator: ctx.translator }),
    ratePerSecond: { telegram: 30, vk: 20 },
    ...deps,
  });
}
