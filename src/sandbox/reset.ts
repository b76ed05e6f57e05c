/**
 * Back to a clean demo without restarting: the database emptied and seeded again, every chat
 * and SMS forgotten, and the bot's per-chat state in Redis (sessions, open flows, login-code
 * limits, VK's button payloads) dropped, so nobody is logged in and no flow is half-way.
 * The same data as `npm run db:seed -- --reset`.
 */
import { resetDemoData, seed } from '../../prisma/seed.js';
import type { Config } from '../config/index.js';
import type { PrismaClient } from '../infra/prisma.js';
import type { Redis } from '../infra/redis.js';
import type { Sandbox } from './sandbox.js';

export interface SandboxResetDeps {
  prisma: PrismaClient;
  redis: Redis;
  config: Pick<Config, 'loyalty' | 'redisKeyPrefix'>;
  sandbox: Sandbox;
}

/** Redis keys that hold a chat's state; dedup keys and queues stay (ids keep growing). */
function statePatterns(prefix: string): string[] {
  return [`${prefix}bot:*:session:*`, `${prefix}bot:*:flow:*`, `${prefix}otp:*`, `${prefix}vk:*`];
}

async function deleteMatching(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

export function createSandboxReset(deps: SandboxResetDeps) {
  let running: Promise<void> | undefined;
  async function run(): Promise<void> {
    await resetDemoData(deps.prisma);
    await seed(deps.prisma, deps.config);
    for (const pattern of statePatterns(deps.config.redisKeyPrefix)) await deleteMatching(deps.redis, pattern);
    deps.sandbox.clearConversations();
    deps.sandbox.push({ type: 'reset', data: {} });
  }
  return {
    /** One reset at a time: a second click while one runs waits for the same one. */
    reset(): Promise<void> {
      running ??= run().finally(() => { running = undefined; });
      return running;
    },
  };
}
