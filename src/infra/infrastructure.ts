/**
 * The clients every process needs, built from config in one place and closed in one place.
 * Entry points and tests call this; modules receive the pieces they need as arguments.
 */
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/index.js';
import { systemClock, type Clock } from './clock.js';
import { createTranslator, type Translator } from './i18n.js';
import { createLogger, type Logger } from './logger.js';
import { createPrisma, type PrismaClient } from './prisma.js';
import { createQueueFactory, type QueueFactory } from './queues.js';
import { createRedis, type Redis } from './redis.js';

export interface Infrastructure {
  config: Config;
  logger: Logger;
  prisma: PrismaClient;
  /** Fail-fast connection for commands (sessions, locks, dedup) and queue producers. */
  redis: Redis;
  queues: QueueFactory;
  translator: Translator;
  clock: Clock;
  close(): Promise<void>;
}

export const LOCALES_DIR = fileURLToPath(new URL('../../locales', import.meta.url));

export async function createInfrastructure(config: Config, overrides: { logger?: Logger; clock?: Clock } = {}): Promise<Infrastructure> {
  const logger = overrides.logger ?? createLogger({ level: config.logLevel });
  const prisma = createPrisma({ databaseUrl: config.databaseUrl });
  const redis = createRedis({ url: config.redisUrl, role: 'client', name: 'kabinet' });
  redis.on('error', (err) => logger.warn({ err: { message: err.message } }, 'redis connection error'));
  const queues = createQueueFactory({ redisUrl: config.redisUrl, prefix: config.queuePrefix, logger, connection: redis });
  const translator = await createTranslator({ localesDir: LOCALES_DIR, languages: config.i18n.languages, defaultLanguage: config.i18n.defaultLanguage });
  let closed = false;
  return {
    config,
    logger,
    prisma,
    redis,
    queues,
    translator,
    clock: overrides.clock ?? systemClock,
    async close() {
      if (closed) return;
      closed = true;
      await queues.close();
      await redis.quit().catch(() => redis.disconnect());
      await prisma.$disconnect();
    },
  };
}
