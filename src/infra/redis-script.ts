import { createHash } from 'node:crypto';
import type { Redis } from './redis.js';

/** A Lua script run by EVALSHA, falling back to EVAL when the server does not know it yet. */
export function scriptRunner(redis: Redis, body: string) {
  const sha = createHash('sha1').update(body).digest('hex');
  return async (keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> => {
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(body, keys.length, ...keys, ...args);
    }
  };
}
