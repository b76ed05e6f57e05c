/**
 * Telegram's "20 messages a minute in a group", held across every process: a sliding log per
 * staff group in Redis (one Lua step: drop old entries, count, take or say how long to wait),
 * plus a "blocked until" mark that a 429's retry_after sets, so every process waits it out.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from '../infra/redis.js';

const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
if blocked > now then return blocked - now end
local window = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < max then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
`;

const BLOCK = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untilMs = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilMs > current then redis.call('SET', KEYS[1], untilMs, 'PX', tonumber(ARGV[1])) end
return untilMs - now
`;

export interface GroupLimiter {
  /** 0 when a message may go now (and it is counted); otherwise milliseconds to wait. */
  take(chatId: string): Promise<number>;
  /** Telegram said 429: nobody sends to this group for `ms`. */
  block(chatId: string, ms: number): Promise<void>;
}

export function createGroupLimiter(deps: { redis: Redis; prefix: string; max: number; windowMs: number }): GroupLimiter {
  const { redis, prefix, max, windowMs } = deps;
  return {
    async take(chatId) {
      const wait = (await redis.eval(TAKE, 2, `${prefix}staff-rate:${chatId}`, `${prefix}staff-blocked:${chatId}`, windowMs, max, `${Date.now()}-${randomBytes(4).toString('hex')}`)) as number;
      return Number(wait);
    },
    async block(chatId, ms) {
      await redis.eval(BLOCK, 1, `${prefix}staff-blocked:${chatId}`, Math.max(1, Math.ceil(ms)));
    },
  };
}
