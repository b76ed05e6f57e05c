import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { TEST_REDIS_URL } from './env.js';

/**
 * Connections to the test Redis for a test file that stands for several processes (one
 * connection each): every key under `prefix` is deleted and every connection closed after the
 * file's tests. Returns the function that opens one.
 */
export function redisClients(prefix: string): () => Redis {
  const connections: Redis[] = [];
  const open = () => {
    const r = new Redis(TEST_REDIS_URL);
    connections.push(r);
    return r;
  };
  afterAll(async () => {
    const cleanup = open();
    const keys = await cleanup.keys(`${prefix}*`);
    if (keys.length) await cleanup.del(...keys);
    await Promise.all(connections.map((c) => c.quit()));
  });
  return open;
}
