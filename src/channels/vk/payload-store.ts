/**
 * Short tokens for what does not fit VK's 255-character button payload: long callback data,
 * long reply-button texts, and the pages of a keyboard too big for one VK message. Stored in
 * Redis with a TTL; a token that has expired reads as undefined and the caller treats the
 * button as stale (the brain answers politely).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from '../../infra/redis.js';

export interface PayloadStore {
  put(kind: string, value: unknown): Promise<string>;
  /** For records that must contain their own token: take one, then `set` it. */
  newToken(): string;
  set(kind: string, token: string, value: unknown): Promise<void>;
  get<T>(kind: string, token: string): Promise<T | undefined>;
}

export interface PayloadStoreOptions {
  redis: Redis;
  /** e.g. "kabinet:vk:<groupId>:" */
  prefix: string;
  /** How long a button keeps working. Default 30 days (old menus stay usable). */
  ttlSeconds?: number;
}

const TOKEN = /^[A-Za-z0-9_-]{8,32}$/;

export function createPayloadStore(options: PayloadStoreOptions): PayloadStore {
  const ttl = options.ttlSeconds ?? 30 * 86_400;
  const key = (kind: string, token: string) => `${options.prefix}${kind}:${token}`;
  const newToken = () => randomBytes(9).toString('base64url');
  return {
    newToken,
    async set(kind, token, value) {
      await options.redis.set(key(kind, token), JSON.stringify(value), 'EX', ttl);
    },
    async put(kind, value) {
      const token = newToken();
      await options.redis.set(key(kind, token), JSON.stringify(value), 'EX', ttl);
      return token;
    },
    async get<T>(kind: string, token: string) {
      if (!TOKEN.test(token)) return undefined;
      const raw = await options.redis.get(key(kind, token));
      return raw === null ? undefined : (JSON.parse(raw) as T);
    },
  };
}
