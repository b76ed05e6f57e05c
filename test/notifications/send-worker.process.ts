/**
 * A send worker in its own process, for the crash test: built from the environment the way
 * the worker role builds it (the platform's sender, the real processor, limiter and lock
 * settings). SEND_PLATFORM=vk builds VK's sender (vk-io → bridge) instead of Telegram's.
 */
import type { OutboundSender, Platform } from '../../src/channels/outbound.js';
import { createTelegramSender } from '../../src/channels/telegram-sender.js';
import { createVkBridge } from '../../src/channels/vk/method-table.js';
import { createVkOutboundSender } from '../../src/channels/vk/outbound-sender.js';
import { createPayloadStore } from '../../src/channels/vk/payload-store.js';
import { createVkApi } from '../../src/channels/vk/vk-api.js';
import { loadConfig } from '../../src/config/index.js';
import { createInfrastructure } from '../../src/infra/infrastructure.js';
import { createNotificationRenderer } from '../../src/notifications/render.js';
import { startSendWorkers } from '../../src/notifications/send.worker.js';

const config = loadConfig();
const infra = await createInfrastructure(config);
const platform: Platform = process.env.SEND_PLATFORM === 'vk' ? 'vk' : 'telegram';
let sender: OutboundSender;
if (platform === 'vk') {
  const vk = createVkApi({ token: config.vk.token!, apiBaseUrl: config.vk.apiBaseUrl, rateLimitPerSecond: config.vk.rateLimitPerSecond });
  const store = createPayloadStore({ redis: infra.redis, prefix: `${config.redisKeyPrefix}vk:${config.vk.groupId}:` });
  sender = createVkOutboundSender(createVkBridge({ vk, groupId: config.vk.groupId!, store }));
} else {
  sender = createTelegramSender({ token: config.telegram.token!, apiRoot: config.telegram.apiRoot });
}
startSendWorkers({
  prisma: infra.prisma,
  queues: infra.queues,
  logger: infra.logger,
  clock: infra.clock,
  render: createNotificationRenderer({ prisma: infra.prisma, translator: infra.translator }),
  senders: new Map<Platform, OutboundSender>([[platform, sender]]),
  ratePerSecond: { telegram: config.telegram.rateLimitPerSecond, vk: config.vk.rateLimitPerSecond },
  concurrency: 1,
  lockDurationMs: config.queueLockDurationMs,
});
process.send?.('ready');
