/**
 * A request budget shared by every process through Redis: at most `limit` requests in any
 * sliding window, summed over all processes that use the same key. The VK community token's
 * budget (VK_RATE_LIMIT per second) is one: the web role (replies, callback answers, name
 * look-ups) and the worker role (notifications, broadcasts) spend it together, so their sum,
 * not each of them, stays under VK's cap.
 *
 * A sliding log (a sorted set of grant times) in one Lua script; times come from Redis
 * (`TIME`), so skewed process clocks do not matter. The window carries a small margin over
 * the platform's second (default 50 ms): a request is granted here and arrives at the
 * platform a little later, and uneven delays must not squeeze limit+1 arrivals into one
 * second there. Grants wait FIFO within a process.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface RateBudgetSettings {
  redis: Redis;
  /** The Redis key of this budget (one per token; never put the token itself in it). */
  key: string;
  /** Requests allowed in any window. */
  limit: number;
  /** The platform's window. Default 1000 ms. */
  windowMs?: number;
  /** Added to the window for the spread of network delays. Default 50 ms. */
  marginMs?: number;
  /** Sleep; tests and benches may pass their own. */
  sleep?: (ms: number) => Promise<void>;
}

export interface RateBudget {
  /** Resolves when one request may be made now (it is counted at once). */
  acquire(): Promise<void>;
  /** Ms until a request could be made, 0 when one is granted now (counts it). */
  tryAcquire(): Promise<number>;
}

// KEYS[1] the log; ARGV: limit, window ms, member. Returns 0 (granted) or ms to wait.
const ACQUIRE = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window))
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, math.ceil(tonumber(oldest[2]) + window - now))`;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createRateBudget(settings: RateBudgetSettings): RateBudget {
  const window = (settings.windowMs ?? 1000) + (settings.marginMs ?? 50);
  const sleep = settings.sleep ?? defaultSleep;
  const limit = Math.max(1, Math.floor(settings.limit));
  let tail: Promise<void> = Promise.resolve();

  const tryAcquire = async () => Number(await settings.redis.eval(ACQUIRE, 1, settings.key, limit, window, randomUUID()));

  async function waitForSlot(): Promise<void> {
    for (;;) {
      const wait = await tryAcquire();
      if (wait <= 0) return;
      await sleep(wait);
    }
  }

  return {
    tryAcquire,
    acquire() {
      // FIFO within the process: each waiter starts polling when the one before it got its slot.
      const mine = tail.then(waitForSlot);
      tail = mine.catch(() => undefined);
      return mine;
    },
  };
}
