/**
 * A fair per-chat lock in Redis, so updates of one chat are handled one at a time and in
 * arrival order even when several instances receive them.
 *
 * Each waiter appends a random token to the chat's queue (a Redis list) and keeps a
 * heartbeat key alive while it waits and works. The head of the queue holds the lock. A
 * head whose heartbeat expired (its process died) is dropped by whoever checks next, so a
 * crash costs at most one lease. Release removes the head only if it is still ours
 * (compare-and-pop in Lua). Waiters in the same process are woken the moment the lock is
 * released here (the usual case: Telegram sends one chat's updates to one instance); a
 * waiter behind another instance polls with a capped backoff, which needs no extra Redis
 * connection per waiter.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Redis } from '../../infra/redis.js';

export interface ChatLockOptions {
  redis: Redis;
  /** e.g. "kabinet:lock:telegram:<botId>:" */
  prefix: string;
  /** Heartbeat lease; renewed every leaseMs/3 while waiting and while working. */
  leaseMs?: number;
  /** Give up waiting after this long (the update then fails and the platform retries it). */
  maxWaitMs?: number;
  /** Backoff bounds while waiting. */
  minPollMs?: number;
  maxPollMs?: number;
}

export class ChatLockTimeoutError extends Error {
  override name = 'ChatLockTimeoutError';
}

// KEYS[1] queue; ARGV[1] token, ARGV[2] heartbeat key prefix.
// Returns 1 when we hold the lock, 0 when someone alive is ahead, -1 when our token is gone.
const ACQUIRE = `
local head = redis.call('LINDEX', KEYS[1], 0)
while head and head ~= ARGV[1] and redis.call('EXISTS', ARGV[2] .. head) == 0 do
  redis.call('LPOP', KEYS[1])
  head = redis.call('LINDEX', KEYS[1], 0)
end
if head == ARGV[1] then return 1 end
if redis.call('LPOS', KEYS[1], ARGV[1]) == false then return -1 end
return 0
`;

// KEYS[1] queue, KEYS[2] our heartbeat; ARGV[1] token.
const RELEASE = `
redis.call('DEL', KEYS[2])
if redis.call('LINDEX', KEYS[1], 0) == ARGV[1] then
  redis.call('LPOP', KEYS[1])
  return 1
end
redis.call('LREM', KEYS[1], 1, ARGV[1])
return 0
`;

export interface ChatLock {
  /** Runs fn while holding the chat's lock. */
  run<T>(chatKey: string, fn: () => Promise<T>): Promise<T>;
  /** How many are queued for the chat (holder included); for tests and metrics. */
  queueLength(chatKey: string): Promise<number>;
}


export function createChatLock(options: ChatLockOptions): ChatLock {
  const { redis, prefix } = options;
  const leaseMs = options.leaseMs ?? 15_000;
  const maxWaitMs = options.maxWaitMs ?? 60_000;
  const minPoll = options.minPollMs ?? 5;
  const maxPoll = options.maxPollMs ?? 100;
  const queueKey = (chat: string) => `${prefix}q:${chat}`;
  const aliveKey = (token: string) => `${prefix}alive:${token}`;
  // Queues outlive no chat forever: refreshed on every use.
  const queueTtlMs = Math.max(leaseMs * 20, 600_000);
  const released = new EventEmitter();
  released.setMaxListeners(0);
  /** Sleeps up to `ms`, or less if this process releases the chat meanwhile. */
  const waitForRelease = (chatKey: string, ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        released.off(chatKey, wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      released.once(chatKey, wake);
    });

  return {
    async run(chatKey, fn) {
      const token = randomUUID();
      const queue = queueKey(chatKey);
      const alive = aliveKey(token);
      const enqueue = () => redis.multi().set(alive, '1', 'PX', leaseMs).rpush(queue, token).pexpire(queue, queueTtlMs).exec();
      await enqueue();
      const heartbeat = setInterval(() => {
        redis.set(alive, '1', 'PX', leaseMs).catch(() => undefined);
      }, Math.max(50, Math.floor(leaseMs / 3)));
      heartbeat.unref();
      try {
        const started = Date.now();
        let delay = minPoll;
        for (;;) {
          const state = (await redis.eval(ACQUIRE, 1, queue, token, `${prefix}alive:`)) as number;
          if (state === 1) break;
          if (state === -1) {
            // Our heartbeat lapsed (a long event-loop stall) and we were dropped: queue again.
            await enqueue();
            continue;
          }
          if (Date.now() - started > maxWaitMs) throw new ChatLockTimeoutError(`Timed out waiting for chat ${chatKey}`);
          await waitForRelease(chatKey, delay);
          delay = Math.min(maxPoll, delay * 2);
        }
        return await fn();
      } finally {
        clearInterval(heartbeat);
        await redis.eval(RELEASE, 2, queue, alive, token).catch(() => undefined);
        released.emit(chatKey);
      }
    },
    async queueLength(chatKey) {
      return redis.llen(queueKey(chatKey));
    },
  };
}
