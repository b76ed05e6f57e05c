/**
 * Strict spacing of VK broadcast requests across every process: each request takes the next
 * free slot (1000 / rate ms apart, plus a small margin for the network) from one Redis key,
 * on Redis's own clock, and waits for it. BullMQ's limiter counts in fixed windows, which
 * lets a 21st request into some sliding second at 20/s; VK answers that with error 6. The
 * pacer closes that gap for broadcasts (notifications stay under BullMQ's limiter alone).
 */
import { createHash } from 'node:crypto';
import type { Redis } from '../infra/redis.js';

const SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, last + tonumber(ARGV[1]))
redis.call('SET', KEYS[1], slot, 'PX', 60000)
return slot - now`;

export interface VkPacer {
  /** Resolves when this request may go out. */
  wait(): Promise<void>;
}

export function createVkPacer(deps: { redis: Redis; keyPrefix: string; token: string; ratePerSecond: number; margin?: number }): VkPacer {
  const key = `${deps.keyPrefix}vk-pace:${createHash('sha256').update(deps.token).digest('hex').slice(0, 16)}`;
  // 4% wider than the cap: a request delayed on its way by up to that much (event loop,
  // network) still cannot make 21 arrive within one second at 20/s.
  const spacing = Math.ceil((1000 / deps.ratePerSecond) * (1 + (deps.margin ?? 0.04)));
  return {
    async wait() {
      const delay = Number(await deps.redis.eval(SCRIPT, 1, key, spacing));
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    },
  };
}
