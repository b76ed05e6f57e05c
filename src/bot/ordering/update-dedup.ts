/**
 * Handles each update once across instances. The customer bot does this inside the chat
 * lock's own scripts for every update that has a chat (ChatLock.runUpdate: the mark is
 * checked when the lock is acquired and set with the release); this middleware is the same
 * rule for updates without one, and for bots without the lock. The mark is written only
 * after the handler finished: if the process dies or the handler throws, the platform's
 * retry is handled again rather than lost (at-least-once for conversational updates; sends
 * that must happen at most once go through the queues, which have their own guards).
 * Without the lock two copies arriving at the same moment may both run.
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
    if ((await options.redis.exists(key)) === 1) {
      options.onDuplicate?.(ctx.update.update_id);
      return;
    }
    await next();
    await options.redis.set(key, '1', 'EX', ttl);
  };
}
