/**
 * Per-file test context: its own database (a copy of the migrated template), its own Redis
 * key and queue prefixes, the real clients. Call in beforeAll, close in afterAll.
 */
import { randomBytes } from 'node:crypto';
import { loadConfig, type Config, type Env } from '../../src/config/index.js';
import { createInfrastructure, type Infrastructure } from '../../src/infra/infrastructure.js';
import type { Clock } from '../../src/infra/clock.js';
import type { Logger } from '../../src/infra/logger.js';
import { createTestDatabase } from './database.js';
import { TEST_REDIS_URL } from './env.js';

export interface TestContext extends Infrastructure {
  databaseName: string;
  /** Unique per file: "{kt-<hex>}" for BullMQ, "kt-<hex>:" for Kabinet's own keys. */
  id: string;
}

export function testConfig(env: Env = {}): Config {
  return loadConfig({ NODE_ENV: 'test', REDIS_URL: TEST_REDIS_URL, ...env });
}

export async function createTestContext(options: { env?: Env; clock?: Clock; logger?: Logger } = {}): Promise<TestContext> {
  const id = randomBytes(5).toString('hex');
  const db = await createTestDatabase();
  const config = testConfig({
    DATABASE_URL: db.url,
    QUEUE_PREFIX: `{kt-${id}}`,
    REDIS_KEY_PREFIX: `kt-${id}:`,
    ...options.env,
  });
  const infra = await createInfrastructure(config, { clock: options.clock, logger: options.logger });
  const close = infra.close;
  return {
    ...infra,
    id,
    databaseName: db.name,
    async close() {
      await close();
      // Remove this file's keys so repeated runs do not fill Redis.
      const redis = new (await import('ioredis')).Redis(TEST_REDIS_URL);
      for (const pattern of [`{kt-${id}}:*`, `kt-${id}:*`]) {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
          cursor = next;
          if (keys.length) await redis.del(...keys);
        } while (cursor !== '0');
      }
      await redis.quit();
      await db.drop();
    },
  };
}
