/**
 * Handles each update once across instances: the first to SET NX the update's key wins.
 * Telegram retries a webhook delivery that failed or timed out; VK retries with the same
 * event id. If handling throws (so the platform will retry), the key is removed again so the
 * retry is not dropped.
 */
import type { Context, MiddlewareFn } from 'grammy';
import type { Redis } from '../../infra/redis.js';

export interface UpdateDedupOptions {
  redis: Redis;
  /** e.g. "kabinet:upd:telegram:<botId>:" */
  prefix: string;
  /** Telegram keeps undelivered updates for 24 h. */
  ttlSeconds?: number;
  onDuplicate?(updateId: number): void;
}

export function createUpdateDedup<C extends Context>(options: UpdateDedupOptions): MiddlewareFn<C> {
  const ttl = options.ttlSeconds ?? 86_400;
  return async (ctx, next) => {
    const key = `${options.prefix}${ctx.update.update_id}`;
    const first = await options.redis.set(key, '1', 'EX', ttl, 'NX');
    if (first !== 'OK') {
      options.onDuplicate?.(ctx.update.update_id);
      return;
    }
    try {
      await next();
    } catch (err) {
      await options.redis.del(key).catch(() => undefined);
      throw err;
    }
  };
}
