/**
 * Short tokens for what does not fit VK's 255-character button payload: long callback data,
 * long reply-button texts, and the pages of a keyboard too big for one VK message. Stored in
 * Redis with a TTL; a token that has expired reads as undefined and the caller treats the
 * button as stale (the brain answers politely).
 *
 * Keys do not pile up: `put` is content-addressed (the same long callback data rendered a
 * thousand times is one key, its TTL refreshed), and keyboard pages are keyed per message or
 * per chat by the caller (`set`), so a re-render overwrites instead of adding a key.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from '../../infra/redis.js';

export interface PayloadStore {
  /** Stores `value` under a token derived from it (same value, same token) and returns the token. */
  put(kind: string, value: unknown): Promise<string>;
  /** A random token, for records that have no natural key. */
  newToken(): string;
  /** Stores `value` under the caller's token; `ttlSeconds` overrides the store's default. */
  set(kind: string, token: string, value: unknown, ttlSeconds?: number): Promise<void>;
  get<T>(kind: string, token: string): Promise<T | undefined>;
}

export interface PayloadStoreOptions {
  redis: Redis;
  /** e.g. "kabinet:vk:<groupId>:" */
  prefix: string;
  /** How long a button's payload keeps working. Default 30 days (old menus stay usable). */
  ttlSeconds?: number;
}

const TOKEN = /^[A-Za-z0-9_-]{8,32}$/;

export function createPayloadStore(options: PayloadStoreOptions): PayloadStore {
  const ttl = options.ttlSeconds ?? 30 * 86_400;
  const key = (kind: string, token: string) => `${options.prefix}${kind}:${token}`;
  const newToken = () => randomBytes(9).toString('base64url');
  return {
    newToken,
    async set(kind, token, value, ttlSeconds) {
      if (!TOKEN.test(token)) throw new Error(`payload store: bad token ${token}`);
      await options.redis.set(key(kind, token), JSON.stringify(value), 'EX', ttlSeconds ?? ttl);
    },
    async put(kind, value) {
      const json = JSON.stringify(value);
      // 96 bits of a hash: a token is found only by one who already knows the value.
      const token = createHash('sha256').update(`${kind}\n${json}`).digest('base64url').slice(0, 16);
      await options.redis.set(key(kind, token), json, 'EX', ttl);
      return token;
    },
    async get<T>(kind: string, token: string) {
      if (!TOKEN.test(token)) return undefined;
      const raw = await options.redis.get(key(kind, token));
      return raw === null ? undefined : (JSON.parse(raw) as T);
    },
  };
}
