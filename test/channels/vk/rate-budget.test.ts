/**
 * The VK token's request budget is shared by every process: two independent clients (each
 * with its own vk-io and its own Redis connection, as web and worker have) calling the fake
 * VK at once stay under VK's cap in sum — the fake counts per token and answers error 6 to
 * the first request over it. Names are looked up once per user, batched.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRateBudget } from '../../../src/channels/rate-budget.js';
import { createVkUserNames } from '../../../src/channels/vk/user-names.js';
import { createVkApi } from '../../../src/channels/vk/vk-api.js';
import { createFakeVk, type FakeVk } from '../../../src/fakes/vk/index.js';
import { TEST_REDIS_URL } from '../../support/env.js';

const GROUP = 7301;
const TOKEN = 'vk-budget-token-7301';
const CAP = 10;
let fake: FakeVk;
const connections: Redis[] = [];
const prefix = `kt-budget-${randomBytes(4).toString('hex')}:`;

function redis(): Redis {
  const r = new Redis(TEST_REDIS_URL);
  connections.push(r);
  return r;
}

/**
 * One "process": its own Redis connection, its own budget object, its own vk-io. The margin is
 * wider than production's 50 ms: the fake runs in this process, and on a loaded test machine
 * an event-loop stall between a grant and its request's arrival must not decide the test.
 */
function client(shared: boolean) {
  const budget = createRateBudget({ redis: redis(), key: `${prefix}vk:budget`, limit: CAP, marginMs: 300 });
  return createVkApi({ token: TOKEN, apiBaseUrl: fake.apiBaseUrl, rateLimitPerSecond: CAP, agent: fake.agent as never, ...(shared ? { budget } : {}) });
}

beforeAll(async () => {
  fake = createFakeVk({ rateLimit: { perSecond: CAP } });
  await fake.listen();
  fake.createGroup({ id: GROUP, token: TOKEN, confirmationCode: 'c0de', secret: 's3cret' });
});
afterAll(async () => {
  const cleanup = redis();
  const keys = await cleanup.keys(`${prefix}*`);
  if (keys.length) await cleanup.del(...keys);
  await Promise.all(connections.map((c) => c.quit()));
  await fake?.close();
});

const tooMany = () => fake.calls(GROUP).filter((c) => c.error?.error_code === 6).length;
const served = () => fake.calls(GROUP).filter((c) => c.method === 'groups.getById' && !c.error).length;

describe('the VK request budget', () => {
  it('without sharing, two processes at VK_RATE_LIMIT each overrun the token (the defect)', async () => {
    fake.reset();
    const [a, b] = [client(false), client(false)];
    await Promise.all([a, b].flatMap((vk) => Array.from({ length: 15 }, () => vk.api.groups.getById({ group_id: GROUP }))));
    expect(tooMany()).toBeGreaterThan(0);
  });

  it('shared in Redis, two processes together never draw error 6', async () => {
    fake.reset();
    const [a, b] = [client(true), client(true)];
    await Promise.all([a, b].flatMap((vk) => Array.from({ length: 25 }, () => vk.api.groups.getById({ group_id: GROUP }))));
    expect(served()).toBe(50);
    expect(tooMany()).toBe(0);
  });

  it('grants at most `limit` in a window and says how long to wait', async () => {
    const budget = createRateBudget({ redis: redis(), key: `${prefix}unit`, limit: 3, windowMs: 60_000, marginMs: 0 });
    expect(await budget.tryAcquire()).toBe(0);
    expect(await budget.tryAcquire()).toBe(0);
    expect(await budget.tryAcquire()).toBe(0);
    const wait = await budget.tryAcquire();
    expect(wait).toBeGreaterThan(50_000);
    expect(wait).toBeLessThanOrEqual(60_000);
  });
});

describe('VK user names', () => {
  it('one users.get for a burst of events from many users, none once cached', async () => {
    fake.reset();
    const ids = Array.from({ length: 56 }, (_, i) => fake.createUser({ firstName: `User${i}`, lastName: 'Test' }).id);
    const names = createVkUserNames({ vk: client(true), redis: redis(), prefix: `${prefix}names:` });
    // Every user's events arrive together, three each.
    const infos = await Promise.all([...ids, ...ids, ...ids].map((id) => names(id)));
    expect(infos[0]).toMatchObject({ firstName: 'User0', lastName: 'Test' });
    expect(infos[56 + 55]).toMatchObject({ firstName: 'User55' });
    const lookUps = () => fake.calls(GROUP).filter((c) => c.method === 'users.get');
    expect(lookUps()).toHaveLength(1);
    expect(lookUps()[0]!.params.user_ids!.split(',')).toHaveLength(56);

    // Another process, same Redis: served from the cache.
    const other = createVkUserNames({ vk: client(true), redis: redis(), prefix: `${prefix}names:` });
    expect(await other(ids[7]!)).toMatchObject({ firstName: 'User7' });
    expect(lookUps()).toHaveLength(1);
  });

  it('a failed look-up is not cached and does not stick', async () => {
    fake.reset();
    const id = fake.createUser({ firstName: 'Later' }).id;
    const names = createVkUserNames({ vk: client(true), redis: redis(), prefix: `${prefix}names-fail:` });
    fake.failNext('users.get', { code: 10 });
    await expect(names(id)).rejects.toThrow();
    expect(await names(id)).toMatchObject({ firstName: 'Later' });
  });
});
