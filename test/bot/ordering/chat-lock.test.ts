/** runUpdate: the lock, the update's done-mark and the state reads in one acquire. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChatLock, LeaseLostError, type ChatLock } from '../../../src/bot/ordering/chat-lock.js';
import { createInboundQueue } from '../../../src/bot/ordering/inbound-queue.js';
import { createRedisStorage } from '../../../src/bot/storage/redis-storage.js';
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

describe('chat lock: fencing', () => {
  /** The same Redis client, except that the heartbeat (PEXPIRE) fails while `failing` is set. */
  function flakyHeartbeat(redis: TestContext['redis']) {
    const state = { failing: false };
    const proxy = new Proxy(redis, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop === 'pexpire') return (...args: unknown[]) => (state.failing ? Promise.reject(new Error('injected heartbeat failure')) : (value as (...a: unknown[]) => unknown).apply(target, args));
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    return { redis: proxy, state };
  }

  it('refuses the writes of a holder whose heartbeat failed past its lease; the holder that took over keeps its state', async () => {
    const leaseMs = 200;
    const flaky = flakyHeartbeat(ctx.redis);
    const a = createChatLock({ redis: flaky.redis, prefix: `${prefix}fence:`, leaseMs, maxPollMs: 10 });
    const b = createChatLock({ redis: ctx.redis, prefix: `${prefix}fence:`, leaseMs, maxPollMs: 10 });
    const key = `${prefix}session:f1`;
    const events: string[] = [];
    let bDone!: () => void;
    const bFinished = new Promise<void>((r) => (bDone = r));
    let aHolding!: () => void;
    const aHolds = new Promise<void>((r) => (aHolding = r));

    const first = a.runUpdate('f1', options(100), async (_values, lease) => {
      await a.write(key, 'A1', 60);
      events.push('A wrote A1');
      flaky.state.failing = true; // from now on A's heartbeats fail (Redis hiccup / stalled loop)
      aHolding();
      await bFinished;
      try {
        await a.write(key, 'A2', 60); // must be refused
        events.push('A wrote A2');
      } finally {
        // Refused by the script even before A's own heartbeat noticed; now A knows.
        events.push(`A lease lost: ${lease.lost}, aborted: ${lease.signal.aborted}`);
      }
    });
    await aHolds;
    // B waits for the chat; once A's lease runs out it takes over.
    const second = b.runUpdate('f1', options(101), async () => {
      events.push('B holds');
      await b.write(key, 'B1', 60);
      bDone();
    });
    await expect(second).resolves.toMatchObject({ duplicate: false });
    await expect(first).rejects.toThrow(/lease lost|write refused/);
    expect(events).toEqual(['A wrote A1', 'B holds', 'A lease lost: true, aborted: true']);
    expect(await ctx.redis.get(key)).toBe('B1');
    // A failed: its update is not marked done, so it will be handled again; B's is.
    expect(await ctx.redis.exists(`${prefix}upd:100`)).toBe(0);
    expect(await ctx.redis.exists(`${prefix}upd:101`)).toBe(1);
    flaky.state.failing = false;
  });

  it('refuses a write after the lease expired during a stall even when nobody took over', async () => {
    const leaseMs = 100;
    const lockS = createChatLock({ redis: ctx.redis, prefix: `${prefix}stall:`, leaseMs, maxPollMs: 10 });
    const key = `${prefix}session:s1`;
    const run = lockS.run('s1', async () => {
      await lockS.write(key, 'before', 60);
      // A synchronous stall longer than the lease: no heartbeat can run.
      const until = Date.now() + leaseMs * 3;
      while (Date.now() < until) { /* stalled event loop */ }
      await lockS.write(key, 'after', 60);
    });
    await expect(run).rejects.toThrow(/write refused|lease lost/);
    expect(await ctx.redis.get(key)).toBe('before');
  });

  it('fences the session/flow storage the bot uses: a write after the lease was lost throws', async () => {
    const lockS = createChatLock({ redis: ctx.redis, prefix: `${prefix}store:`, leaseMs: 100, maxPollMs: 10 });
    const storage = createRedisStorage<{ step: number }>({ redis: ctx.redis, prefix: `${prefix}flow:`, ttlSeconds: 60, writer: lockS.write });
    const run = lockS.run('st1', async () => {
      await storage.write('st1', { step: 1 });
      // The lease runs out (the key expires as if the heartbeat had failed).
      await ctx.redis.del(`${prefix}store:alive:${lockS.currentLease()!.token}`);
      await storage.write('st1', { step: 2 });
    });
    await expect(run).rejects.toBeInstanceOf(LeaseLostError);
    expect(await storage.read('st1')).toEqual({ step: 1 });
  });

  it('writes plainly outside a locked handler, and deletes through the fence inside one', async () => {
    const key = `${prefix}session:p1`;
    await lock.write(key, 'plain', 60);
    expect(await ctx.redis.get(key)).toBe('plain');
    await lock.run('p1', async () => {
      expect(lock.currentLease()?.chatKey).toBe('p1');
      await lock.write(key, null, 60);
    });
    expect(await ctx.redis.exists(key)).toBe(0);
    expect(lock.currentLease()).toBeUndefined();
  });

  // Without chatOfKey the adopted hold lives in the lock's own async context; with it (what the
  // customer bot passes) it is found by the chat its keys end in.
  const flowChat = (tag: string) => (key: string) => (key.startsWith(`${prefix}aflow-${tag}:`) ? key.slice(`${prefix}aflow-${tag}:`.length) : undefined);
  it.each([
    ['in its own async context', false],
    ['found by the chat of its keys', true],
  ] as const)("under an adopted inbound claim (%s), the bot's storage reads its own writes before they land with the acknowledgement", async (label, byChat) => {
    const tag = byChat ? 'bychat' : 'own';
    const lockA = createChatLock({ redis: ctx.redis, prefix: `${prefix}adopt-${tag}:`, ...(byChat ? { chatOfKey: flowChat(tag) } : {}) });
    const storage = createRedisStorage<{ step: number }>({ redis: ctx.redis, prefix: `${prefix}aflow-${tag}:`, ttlSeconds: 60, writer: lockA.write, reader: lockA.read });
    await storage.write('a1', { step: 1 }); // outside any handler: lands at once
    const queue = createInboundQueue({ redis: ctx.redis, prefix: `${prefix}adopt-in-${tag}:`, logger: ctx.logger, sweepMs: 50 });
    const seen: unknown[] = [];
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    queue.consume(async (item) => {
      await lockA.adopt('a1', item.claim!, async () => {
        seen.push(await storage.read('a1'));
        await storage.write('a1', { step: 2 });
        seen.push(await storage.read('a1'), await ctx.redis.get(`${prefix}aflow-${tag}:a1`));
        await storage.delete('a1');
        seen.push(await storage.read('a1'));
      });
      done();
    });
    await queue.enqueue('a1', 'u1', 'x');
    await finished;
    await new Promise((r) => setTimeout(r, 50));
    await queue.stop();
    expect(seen, label).toEqual([{ step: 1 }, { step: 2 }, '{"step":1}', undefined]);
    expect(await ctx.redis.exists(`${prefix}aflow-${tag}:a1`)).toBe(0);
  });

  it("a hold found by chat: each chat's keys meet its own hold, another chat's key is not fenced by it, a lock taken inside wins, and a refused claim refuses the write", async () => {
    const statePrefix = `${prefix}scope-state:`;
    const lockS = createChatLock({ redis: ctx.redis, prefix: `${prefix}scope:`, chatOfKey: (key) => (key.startsWith(statePrefix) ? key.slice(statePrefix.length) : undefined), maxPollMs: 10 });
    const queue = createInboundQueue({ redis: ctx.redis, prefix: `${prefix}scope-in:`, logger: ctx.logger, sweepMs: 50 });
    const seen: string[] = [];
    let left = 3;
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const finish = () => (left -= 1) === 0 && done();
    queue.consume(async (item) => {
      // Before adopt: no hold for the chat yet.
      seen.push(`${item.chat}: before ${lockS.currentLease(item.chat)?.chatKey ?? 'none'}`);
      if (item.chat === 'lost') {
        const refusing = { ...item.claim!, lost: false, signal: item.claim!.signal, write: async () => false, pending: () => undefined };
        await lockS.adopt(item.chat, refusing, async () => {
          await expect(lockS.write(`${prefix}scope-state:lost`, 'x', 60)).rejects.toBeInstanceOf(LeaseLostError);
        });
        seen.push('lost: write refused');
        finish();
        return;
      }
      await lockS.adopt(item.chat, item.claim!, async (lease) => {
        // Two chats run at once: each continuation sees its own item's hold.
        await new Promise((r) => setTimeout(r, 20));
        seen.push(`${item.chat}: adopted ${lockS.currentLease(item.chat)?.token === lease.token}`);
        await lockS.run(`other-${item.chat}`, async () => {
          seen.push(`${item.chat}: inner ${lockS.currentLease(item.chat)?.chatKey}`);
        });
        seen.push(`${item.chat}: after inner ${lockS.currentLease(item.chat)?.chatKey}`);
        await lockS.write(`${prefix}scope-state:${item.chat}`, item.chat, 60);
        // A key of a chat no update holds here: a plain write, not one of this claim's.
        await lockS.write(`${prefix}scope-state:free-${item.chat}`, 'plain', 60);
        seen.push(`${item.chat}: free ${await ctx.redis.get(`${prefix}scope-state:free-${item.chat}`)}`);
        // Kept with the claim, landing with the acknowledgement.
        seen.push(`${item.chat}: pending ${await lockS.read(`${prefix}scope-state:${item.chat}`)}`);
      });
      finish();
    });
    await Promise.all([queue.enqueue('s1', 'v1', 'x'), queue.enqueue('s2', 'v2', 'x'), queue.enqueue('lost', 'v3', 'x')]);
    await finished;
    await new Promise((r) => setTimeout(r, 50));
    await queue.stop();
    for (const chat of ['s1', 's2']) {
      expect(seen.filter((line) => line.startsWith(`${chat}:`))).toEqual([
        `${chat}: before none`,
        `${chat}: adopted true`,
        `${chat}: inner other-${chat}`,
        `${chat}: after inner ${chat}`,
        `${chat}: free plain`,
        `${chat}: pending ${chat}`,
      ]);
      expect(lockS.currentLease(chat)).toBeUndefined();
      expect(await ctx.redis.get(`${prefix}scope-state:${chat}`)).toBe(chat);
    }
    expect(seen.filter((line) => line.startsWith('lost:'))).toEqual(['lost: before none', 'lost: write refused']);
    expect(await ctx.redis.exists(`${prefix}scope-state:lost`)).toBe(0);
    // Outside every item: nothing adopted is visible.
    expect(lockS.currentLease()).toBeUndefined();
    expect(lockS.currentLease('lost')).toBeUndefined();
  });
});
