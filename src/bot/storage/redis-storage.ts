/**
 * A grammY StorageAdapter over ioredis: JSON values under a key prefix with a TTL refreshed
 * on every write, so abandoned sessions and conversations expire on their own.
 *
 * `prefetched`: raw values already read for this update (the customer bot reads the session
 * and the flow state in the chat lock's acquire script). A read takes its key's value once;
 * later reads go to Redis. The map is filled and cleared under the chat lock, so no other
 * update of the chat can see it.
 *
 * `writer`: how writes and deletes reach Redis. The customer bot passes its chat lock's
 * fenced `write`, so a handler that lost its chat's lease cannot overwrite the state of the
 * handler that took over (the write throws LeaseLostError instead). Its writes may land later
 * (the inbound queue's claim lands them with the update's acknowledgement), so `reader` is the
 * chat lock's read, which sees them.
 */
import type { StorageAdapter } from 'grammy';
import type { Redis } from '../../infra/redis.js';

export interface RedisStorageOptions {
  redis: Redis;
  /** Full prefix, e.g. "kabinet:session:telegram:123:". */
  prefix: string;
  ttlSeconds: number;
  /** Full Redis key → raw value (null: absent), taken by the first read. */
  prefetched?: Map<string, string | null>;
  /** SET with TTL (null: DEL); default a plain write. */
  writer?: (key: string, value: string | null, ttlSeconds: number) => Promise<void>;
  /** GET; default a plain read. The customer bot's sees its own writes not landed yet. */
  reader?: (key: string) => Promise<string | null>;
}

export function createRedisStorage<T>(options: RedisStorageOptions): StorageAdapter<T> {
  const { redis, prefix, ttlSeconds, prefetched, reader } = options;
  const writer =
    options.writer ??
    (async (key: string, value: string | null, ttl: number) => {
      if (value === null) await redis.del(key);
      else await redis.set(key, value, 'EX', ttl);
    });
  return {
    async read(key) {
      const full = prefix + key;
      let raw: string | null | undefined = prefetched?.get(full);
      if (raw === undefined) raw = reader ? await reader(full) : await redis.get(full);
      else prefetched!.delete(full);
      return raw === null ? undefined : (JSON.parse(raw) as T);
    },
    async write(key, value) {
      prefetched?.delete(prefix + key);
      await writer(prefix + key, JSON.stringify(value), ttlSeconds);
    },
    async delete(key) {
      prefetched?.delete(prefix + key);
      await writer(prefix + key, null, ttlSeconds);
    },
  };
}
