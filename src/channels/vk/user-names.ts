/**
 * Names for the `from` of converted VK updates (VK events carry only user ids), spending as
 * little of the community token's request budget as possible:
 * - cached in Redis (all processes share it) for `ttlSeconds`;
 * - one in-flight look-up per user: a burst of events from one person waits on one answer;
 * - batched: ids missing from the cache within `batchWindowMs` go out as one `users.get`
 *   (up to 1000 ids, VK's maximum). A cached name costs one GET and no wait.
 * A failed look-up is not cached; the converter falls back to `id<user id>`.
 */
import type { VK } from 'vk-io';
import type { Redis } from '../../infra/redis.js';
import type { VkUserInfo } from './update-converter.js';

export interface VkUserNamesDeps {
  vk: VK;
  redis: Redis;
  /** e.g. `<redisKeyPrefix>vk:<groupId>:` */
  prefix: string;
  /** Default one day: names change rarely, and they are personal data (not kept longer). */
  ttlSeconds?: number;
  /** How long to collect ids for one request. Default 5 ms. */
  batchWindowMs?: number;
}

export type VkUserNames = (userId: number) => Promise<VkUserInfo>;

const USERS_GET_MAX = 1000;

interface Waiter {
  resolve(info: VkUserInfo): void;
  reject(err: unknown): void;
}

export function createVkUserNames(deps: VkUserNamesDeps): VkUserNames {
  const ttl = deps.ttlSeconds ?? 86_400;
  const windowMs = deps.batchWindowMs ?? 5;
  const key = (id: number) => `${deps.prefix}user:${id}`;
  const inflight = new Map<number, Promise<VkUserInfo>>();
  let batch = new Map<number, Waiter>();
  let timer: NodeJS.Timeout | undefined;

  async function lookUp(ids: number[]): Promise<Map<number, VkUserInfo>> {
    const found = new Map<number, VkUserInfo>();
    for (let i = 0; i < ids.length; i += USERS_GET_MAX) {
      const chunk = ids.slice(i, i + USERS_GET_MAX);
      const users = (await deps.vk.api.users.get({ user_ids: chunk, fields: ['screen_name'] })) as Array<{ id: number; first_name?: string; last_name?: string; screen_name?: string }>;
      const write = deps.redis.multi();
      for (const user of users) {
        const info: VkUserInfo = { firstName: user.first_name, lastName: user.last_name, username: user.screen_name };
        found.set(user.id, info);
        write.set(key(user.id), JSON.stringify(info), 'EX', ttl);
      }
      await write.exec();
    }
    return found;
  }

  async function flush(): Promise<void> {
    const current = batch;
    batch = new Map();
    timer = undefined;
    try {
      const found = await lookUp([...current.keys()]);
      for (const [id, waiter] of current) waiter.resolve(found.get(id) ?? {});
    } catch (err) {
      for (const waiter of current.values()) waiter.reject(err);
    }
  }

  function enqueue(userId: number): Promise<VkUserInfo> {
    return new Promise<VkUserInfo>((resolve, reject) => {
      batch.set(userId, { resolve, reject });
      if (batch.size >= USERS_GET_MAX) {
        if (timer) clearTimeout(timer);
        void flush();
      } else {
        timer ??= setTimeout(() => void flush(), windowMs);
      }
    });
  }

  return (userId) => {
    const running = inflight.get(userId);
    if (running) return running;
    const promise = (async () => {
      const cached = await deps.redis.get(key(userId));
      return cached ? (JSON.parse(cached) as VkUserInfo) : enqueue(userId);
    })().finally(() => inflight.delete(userId));
    inflight.set(userId, promise);
    return promise;
  };
}
