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

/** Redis keys that hold a chat's state; dedup keys, locks and queues stay (ids keep growing). */
function isChatState(key: string, prefix: string): boolean {
  const rest = key.slice(prefix.length);
  return /^bot:.+?:(session|flow):/.test(rest) || rest.startsWith('otp:') || rest.startsWith('vk:');
}

/** One pass over this instance's keys (a shared Redis may hold many others). */
async function deleteChatState(redis: Redis, prefix: string): Promise<number> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    const mine = keys.filter((k) => isChatState(k, prefix));
    if (mine.length > 0) deleted += await redis.del(...mine);
  } while (cursor !== '0');
  return deleted;
}

export function createSandboxReset(deps: SandboxResetDeps) {
  let running: Promise<void> | undefined;
  async function run(): Promise<void> {
    await resetDemoData(deps.prisma);
    await seed(deps.prisma, deps.config);
    await deleteChatState(deps.redis, deps.config.redisKeyPrefix);
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
