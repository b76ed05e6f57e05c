import type { Context } from 'grammy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUpdateDedup } from '../../src/bot/ordering/update-dedup.js';
import { createTestContext, type TestContext } from '../support/context.js';

let ctx: TestContext;
beforeAll(async () => { ctx = await createTestContext(); });
afterAll(async () => { await ctx.close(); });

const update = (id: number) => ({ update: { update_id: id } }) as unknown as Context;

describe('update dedup', () => {
  it('handles a copy of a finished update no more, but handles again one whose handler failed', async () => {
    const dedup = createUpdateDedup<Context>({ redis: ctx.redis, prefix: `${ctx.config.redisKeyPrefix}upd-test:` });
    const handled: number[] = [];
    await dedup(update(1), async () => { handled.push(1); });
    await dedup(update(1), async () => { handled.push(1); });
    expect(handled).toEqual([1]);

    await expect(dedup(update(2), async () => { throw new Error('process died mid-update'); })).rejects.toThrow();
    await dedup(update(2), async () => { handled.push(2); });
    await dedup(update(2), async () => { handled.push(2); });
    expect(handled).toEqual([1, 2]);
  });
});
