/**
 * A send worker in its own process, for the crash test: built from the environment the way
 * the worker role builds it (Telegram sender, the real processor, limiter and lock settings).
 */
import { createTelegramSender } from '../../src/channels/telegram-sender.js';
import type { OutboundSender, Platform } from '../../src/channels/outbound.js';
import { loadConfig } from '../../src/config/index.js';
import { createInfrastructure } from '../../src/infra/infrastructure.js';
import { createNotificationRenderer } from '../../src/notifications/render.js';
import { startSendWorkers } from '../../src/notifications/send.worker.js';

const config = loadConfig();
const infra = await createInfrastructure(config);
startSendWorkers({
  prisma: infra.prisma,
  queues: infra.queues,
  logger: infra.logger,
  clock: infra.clock,
  render: createNotificationRenderer({ prisma: infra.prisma, translator: infra.translator }),
  senders: new Map<Platform, OutboundSender>([['telegram', createTelegramSender({ token: config.telegram.token!, apiRoot: config.telegram.apiRoot })]]),
  ratePerSecond: { telegram: config.telegram.rateLimitPerSecond, vk: config.vk.rateLimitPerSecond },
  concurrency: 1,
  lockDurationMs: config.queueLockDurationMs,
});
process.send?.('ready');
