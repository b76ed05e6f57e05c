/**
 * The operator-reply worker in its own process, for the kill -9 drill: built from the
 * environment the way the worker role builds it (createStaffServices: the customer messengers
 * for TELEGRAM_* and VK_*, then the real processor with QUEUE_LOCK_DURATION_MS).
 */
import { loadConfig } from '../../src/config/index.js';
import { createInfrastructure } from '../../src/infra/infrastructure.js';
import { startOperatorReplyWorker } from '../../src/staff/operator-reply.queue.js';
import { createStaffServices } from '../../src/staff/staff-side.js';

const config = loadConfig();
const infra = await createInfrastructure(config);
const services = createStaffServices(infra);
startOperatorReplyWorker({
  queues: infra.queues,
  redis: infra.redis,
  redisKeyPrefix: config.redisKeyPrefix,
  support: services.support,
  replies: services.replies,
  logger: infra.logger,
  concurrency: 1,
  lockDurationMs: config.queueLockDurationMs,
});
process.send?.('ready');
