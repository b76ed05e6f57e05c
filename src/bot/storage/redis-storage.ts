/**
 * A grammY StorageAdapter over ioredis: JSON values under a key prefix with a TTL refreshed
 * on every write, so abandoned sessions and conversations expire on their own.
 */
import type { StorageAdapter } from 'grammy';
import type { Redis } from '../../infra/redis.js';

export interface RedisStorageOptions {
  redis: Redis;
  /** Full prefix, e.g. "kabinet:session:telegram:123:". */
  prefix: string;
  ttlSeconds: number;
}

export function createRedisStorage<T>(options: RedisStorageOptions): StorageAdapter<T> {
  const { redis, prefix, ttlSeconds } = options;
  return {
    async read(key) {
      const raw = await redis.get(prefix + key);
      return raw === null ? undefined : (JSON.parse(raw) as T);
    },
    async write(key, value) {
      await redis.set(prefix + key, JSON.stringify(value), 'EX', ttlSeconds);
    },
    async delete(key) {
      await redis.del(prefix + key);
    },
  };
}
