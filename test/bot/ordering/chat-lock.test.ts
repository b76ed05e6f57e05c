/** runUpdate: the lock, the update's done-mark and the state reads in one acquire. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChatLock, type ChatLock } from '../../../src/bot/ordering/chat-lock.js';
import { createTestContext, type TestContext } from '../../support/context.js';

let ctx: TestContext;
let lock: ChatLock;
let prefix: string;
beforeAll(async () => {
  ctx = await createTestContext();
  prefix = `${ctx.config.redisKeyPrefix}chat-lock-test:`;
  lock = createChatLock({ redis: ctx.redis, prefix: `${prefix}lock:`, maxPollMs: 10 });
});
afterAll(async () => {
  await ctx?.close();
});

const options = (updateId: number, readKeys: string[] = []) => ({ doneKey: `${prefix}upd:${updateId}`, doneTtlSeconds: 60, readKeys });

describe('chat lock: runUpdate', () => {
  it('hands the state read at acquire to the holder, null for a missing key', async () => {
    await ctx.redis.set(`${prefix}session:1`, '{"a":1}');
    const result = await lock.runUpdate('1', options(1, [`${prefix}session:1`, `${prefix}flow:1`]), async (values) => values);
    expect(result).toEqual({ duplicate: false, value: ['{"a":1}', null] });
  });

  it('runs a finished update once, and again one whose handler failed', async () => {
    const handled: string[] = [];
    const run = (id: number, fn: () => Promise<void>) => lock.runUpdate('2', options(id), fn);
    expect(await run(10, async () => { handled.push('10'); })).toMatchObject({ duplicate: false });
    expect(await run(10, async () => { handled.push('10 again'); })).toEqual({ duplicate: true });
    await expect(run(11, async () => { throw new Error('handler failed'); })).rejects.toThrow('handler failed');
    await run(11, async () => { handled.push('11 retried'); });
    expect(handled).toEqual(['10', '11 retried']);
    expect(await lock.queueLength('2')).toBe(0);
  });

  it('serializes one chat in arrival order; a duplicate waiting behind its original is skipped', async () => {
    const events: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const first = lock.runUpdate('3', options(20), async () => { events.push('20 start'); await gate; events.push('20 end'); });
    await new Promise((r) => setTimeout(r, 20));
    const copy = lock.runUpdate('3', options(20), async () => { events.push('20 copy'); });
    const second = lock.runUpdate('3', options(21), async () => { events.push('21'); });
    await new Promise((r) => setTimeout(r, 20));
    open();
    const results = await Promise.all([first, copy, second]);
    expect(results.map((r) => r.duplicate)).toEqual([false, true, false]);
    expect(events).toEqual(['20 start', '20 end', '21']);
    expect(await lock.queueLength('3')).toBe(0);
  });
});
