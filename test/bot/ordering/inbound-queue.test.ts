/** The durable inbound queue: order per chat, dedup, retries, dead letters, fencing, take-over. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createInboundQueue, type InboundItem, type InboundQueue, type InboundQueueOptions } from '../../../src/bot/ordering/inbound-queue.js';
import { createTestContext, type TestContext } from '../../support/context.js';
import { eventually } from '../harness.js';

let ctx: TestContext;
let n = 0;
const queues: InboundQueue[] = [];
beforeAll(async () => {
  ctx = await createTestContext();
});
afterEach(async () => {
  for (const q of queues.splice(0)) await q.stop();
});
afterAll(async () => {
  await ctx?.close();
});

function queue(prefix: string, options: Partial<InboundQueueOptions> = {}): InboundQueue {
  const q = createInboundQueue({ redis: ctx.redis, prefix, logger: ctx.logger, sweepMs: 50, ...options });
  queues.push(q);
  return q;
}
/**
 * A queue whose heartbeats (EXTEND calls) fail, as from a frozen process or one cut off from
 * Redis: its claims expire while its handler runs. No sweep of its own within a test. Its
 * consumers run with one place (FROZEN): stalled in their first update, they take nothing
 * else; with a free place one could claim the chat again after the sweep handed it on, racing
 * the other consumer (a real process may; the tests want the hand-over alone).
 */
function frozenQueue(prefix: string, leaseMs: number): InboundQueue {
  const q = createInboundQueue({ redis: new Proxy(ctx.redis, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop !== 'evalsha' && prop !== 'eval') return typeof value === 'function' ? value.bind(target) : value;
      return (...args: unknown[]) => (String(args[2]).endsWith(':claims') && args[1] === 2 ? Promise.reject(new Error('injected heartbeat failure')) : (value as (...a: unknown[]) => unknown).apply(target, args));
    },
  }), prefix, logger: ctx.logger, leaseMs, sweepMs: 10_000 });
  queues.push(q);
  return q;
}
const FROZEN = { concurrency: 1 } as const;
const fresh = () => `${ctx.config.redisKeyPrefix}inq-${++n}:`;

describe('inbound queue', () => {
  it('records an id once, and hands each chat its updates one at a time in arrival order', async () => {
    const prefix = fresh();
    const producer = queue(prefix);
    for (let i = 0; i < 10; i++) {
      for (const chat of ['a', 'b', 'c']) expect(await producer.enqueue(chat, `${chat}${i}`, `${chat}:${i}`)).toBe('queued');
    }
    expect(await producer.enqueue('a', 'a3', 'a:3 again')).toBe('duplicate');
    // Two consumers (two processes' worth) share the work.
    const seen = new Map<string, string[]>();
    const running = new Set<string>();
    let overlap = false;
    const handler = async (item: InboundItem) => {
      if (running.has(item.chat)) overlap = true;
      running.add(item.chat);
      await new Promise((r) => setTimeout(r, 2));
      seen.set(item.chat, [...(seen.get(item.chat) ?? []), item.payload]);
      running.delete(item.chat);
    };
    queue(prefix).consume(handler, { concurrency: 2 });
    queue(prefix).consume(handler, { concurrency: 2 });
    await eventually(async () => (await producer.pendingChats()) === 0);
    expect(overlap).toBe(false);
    for (const chat of ['a', 'b', 'c']) expect(seen.get(chat)).toEqual(Array.from({ length: 10 }, (_, i) => `${chat}:${i}`));
    expect(await ctx.redis.keys(`${prefix}item:*`)).toEqual([]);
  });

  it('at its concurrency cap, takes the waiting chats as each one finishes, without the sweep; items carry when they were recorded', async () => {
    const prefix = fresh();
    const producer = queue(prefix);
    const before = Date.now();
    for (const chat of ['a', 'b', 'c', 'd', 'e']) await producer.enqueue(chat, `${chat}1`, chat);
    const handled: InboundItem[] = [];
    // The sweep never runs in this test: only wake-ups and finished chats can bring work.
    queue(prefix, { sweepMs: 3_600_000 }).consume(async (item) => void handled.push(item), { concurrency: 1 });
    await eventually(async () => handled.length === 5);
    expect(handled.map((i) => i.chat).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    for (const item of handled) {
      // Redis's clock and this process's are the same machine's.
      expect(item.recordedAt).toBeGreaterThanOrEqual(before - 1_000);
      expect(item.recordedAt).toBeLessThanOrEqual(Date.now() + 1_000);
    }
    expect(await producer.pendingChats()).toBe(0);
  });

  it('records arriving together never take more idle chats for the recording process than its concurrency; the rest wait their turn', async () => {
    const prefix = fresh();
    const q = queue(prefix, { sweepMs: 3_600_000 });
    let running = 0;
    let most = 0;
    const handled: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    q.consume(async (item) => {
      running += 1;
      most = Math.max(most, running);
      await gate;
      handled.push(item.chat);
      running -= 1;
    }, { concurrency: 3 });
    // Ten idle chats recorded at once by this process: each record could claim its chat for
    // this process's consumer in the same call, and all ten are in flight together.
    const chats = Array.from({ length: 10 }, (_, i) => `c${i}`);
    await Promise.all(chats.map((chat) => q.enqueue(chat, `${chat}-1`, chat)));
    await eventually(async () => running === 3);
    expect(await ctx.redis.llen(`${prefix}ready`)).toBe(7);
    open();
    await eventually(async () => handled.length === 10);
    expect(most).toBe(3);
    expect([...handled].sort()).toEqual([...chats].sort());
    expect(await q.pendingChats()).toBe(0);
  });

  it('retries a failing update with backoff, the chat waiting, then gives it up into the dead list', async () => {
    const prefix = fresh();
    const q = queue(prefix, { maxAttempts: 3, baseBackoffMs: 10, maxBackoffMs: 20 });
    const attempts: string[] = [];
    await q.enqueue('x', 'x1', 'poison');
    await q.enqueue('x', 'x2', 'fine');
    await q.enqueue('y', 'y1', 'flaky');
    q.consume(async (item) => {
      attempts.push(`${item.payload}#${item.attempt}`);
      if (item.payload === 'poison') throw new Error('always fails');
      if (item.payload === 'flaky' && item.attempt === 1) throw new Error('fails once');
    });
    await eventually(async () => (await q.pendingChats()) === 0);
    expect(attempts.filter((a) => a.startsWith('poison'))).toEqual(['poison#1', 'poison#2', 'poison#3']);
    // "fine" waited for the poison item (order) and ran once after it was given up.
    expect(attempts.indexOf('fine#1')).toBeGreaterThan(attempts.indexOf('poison#3'));
    expect(attempts.filter((a) => a.startsWith('flaky'))).toEqual(['flaky#1', 'flaky#2']);
    expect(await q.dead()).toEqual(['x1']);
    expect(await ctx.redis.hget(`${prefix}item:x1`, 'e')).toContain('always fails');

    // Requeued, it runs again (here it fails again and is dead again).
    expect(await q.requeueDead()).toBe(1);
    await eventually(async () => (await q.pendingChats()) === 0 && (await q.dead()).length === 1);
    expect(attempts.filter((a) => a.startsWith('poison')).length).toBe(6);
  });

  it('gives the chat to another consumer when the holder stalls past its lease, and refuses the stale acknowledgement', async () => {
    const prefix = fresh();
    const leaseMs = 150;
    const first = queue(prefix, { leaseMs });
    const handled: string[] = [];
    let releaseStalled!: () => void;
    const stalled = new Promise<void>((r) => (releaseStalled = r));
    let reached!: () => void;
    const atStall = new Promise<void>((r) => (reached = r));
    await first.enqueue('s', 's1', 'one');
    await first.enqueue('s', 's2', 'two');
    // The holder's heartbeats stop (a frozen process): simulated by a consumer whose handler
    // never returns in time while its claim's lease is not extended.
    const frozen = frozenQueue(prefix, leaseMs);
    frozen.consume(async (item) => {
      handled.push(`frozen:${item.payload}`);
      reached();
      await stalled;
    }, FROZEN);
    await atStall;
    // Another consumer sweeps the expired claim and runs the same update again, then the next.
    queue(prefix, { leaseMs }).consume(async (item) => {
      handled.push(`second:${item.payload}#${item.attempt}`);
    });
    await eventually(async () => (await first.pendingChats()) === 0);
    releaseStalled();
    await new Promise((r) => setTimeout(r, 50));
    expect(handled).toEqual(['frozen:one', 'second:one#2', 'second:two#1']);
    expect(await ctx.redis.llen(`${prefix}q:s`)).toBe(0);
    expect(await first.dead()).toEqual([]);
  });

  it('keeps every claim it holds alive through handlers that outlast the lease many times, with one heartbeat call for them all', async () => {
    const prefix = fresh();
    // A beat every 100 ms; a claim not renewed for 200 ms is given up (one beat before its lease
    // ends): room for a busy test machine's timers.
    const leaseMs = 300;
    // Counts the heartbeat's EXTEND calls (two keys, the first the claims zset) and their claims.
    const beats: number[] = [];
    const counted = new Proxy(ctx.redis, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== 'evalsha' && prop !== 'eval') return typeof value === 'function' ? value.bind(target) : value;
        return (...args: unknown[]) => {
          if (String(args[2]).endsWith(':claims') && args[1] === 2) beats.push((args.length - 5) / 2);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const q = createInboundQueue({ redis: counted, prefix, logger: ctx.logger, leaseMs, sweepMs: 50 });
    queues.push(q);
    for (const chat of ['a', 'b', 'c', 'd']) await q.enqueue(chat, `${chat}1`, chat);
    const runs: string[] = [];
    q.consume(async (item) => {
      runs.push(`${item.payload}#${item.attempt}`);
      // Four leases long: without the heartbeat the sweep would hand the chats on.
      await new Promise((r) => setTimeout(r, 4 * leaseMs));
      expect(item.claim!.lost).toBe(false);
    });
    // A second consumer sweeping every 50 ms would take any claim let lapse.
    queue(prefix, { leaseMs }).consume(async (item) => void runs.push(`taken:${item.payload}#${item.attempt}`));
    await eventually(async () => (await q.pendingChats()) === 0);
    expect(runs.sort()).toEqual(['a#1', 'b#1', 'c#1', 'd#1']);
    expect(await q.dead()).toEqual([]);
    // Every beat while the four ran extended the four claims in one call.
    expect(beats.length).toBeGreaterThanOrEqual(4);
    expect(beats.filter((n) => n === 4).length).toBeGreaterThanOrEqual(3);
  });

  it("reads the chat's state with each claim and acknowledgement; a holder that lost the chat can no longer write it", async () => {
    const prefix = fresh();
    const state = `${prefix}state:`;
    const leaseMs = 150;
    const producer = queue(prefix, { leaseMs });
    await ctx.redis.set(`${state}s`, 'v0');
    await producer.enqueue('s', 's1', 'one');
    await producer.enqueue('s', 's2', 'two');
    const seen: string[] = [];
    let releaseStalled!: () => void;
    const stalled = new Promise<void>((r) => (releaseStalled = r));
    let reached!: () => void;
    const atStall = new Promise<void>((r) => (reached = r));
    let staleWrite: boolean | undefined;
    let staleLost: boolean | undefined;
    // A consumer whose heartbeats fail (see the test above) stalls in its first update.
    const frozen = frozenQueue(prefix, leaseMs);
    frozen.consume(async (item) => {
      seen.push(`frozen:${item.payload}:${item.values?.join(',')}`);
      reached();
      await stalled;
      staleWrite = await item.claim!.write(`${state}s`, 'from the stale holder', 60);
      staleLost = item.claim!.lost;
    }, { ...FROZEN, readPrefixes: [state] });
    await atStall;
    queue(prefix, { leaseMs }).consume(async (item) => {
      seen.push(`second:${item.payload}:${item.values?.join(',')}`);
      expect(await item.claim!.write(`${state}s`, `v-${item.payload}`, 60)).toBe(true);
    }, { readPrefixes: [state] });
    await eventually(async () => (await producer.pendingChats()) === 0);
    releaseStalled();
    await eventually(async () => staleWrite !== undefined);
    // The second consumer read v0 with its claim, and its own first write with the next item
    // (read by the acknowledgement); the stale holder's write was refused.
    expect(seen).toEqual(['frozen:one:v0', 'second:one:v0', 'second:two:v-one']);
    expect(staleWrite).toBe(false);
    expect(staleLost).toBe(true);
    expect(await ctx.redis.get(`${state}s`)).toBe('v-two');
  });

  it('at its cap, a chat with a steady stream of updates yields its place to a waiting chat (round robin), each chat still in order', async () => {
    const prefix = fresh();
    // The sweep never runs in this test: only acknowledgements and wake-ups can bring work.
    const q = queue(prefix, { sweepMs: 3_600_000 });
    // Two busy chats, each with 30 updates, then a third chat: all recorded before the consumer
    // starts (so how fast this machine records does not matter), in that order in `ready`.
    for (let i = 0; i < 30; i++) for (const chat of ['a', 'b']) await q.enqueue(chat, `${chat}${i}`, `${chat}:${i}`);
    await q.enqueue('c', 'c0', 'c:0');
    // The consumer's two places go to a and b; c waits while both are taken.
    const handled: string[] = [];
    q.consume(async (item) => {
      handled.push(item.payload);
      await new Promise((r) => setTimeout(r, 2));
    }, { concurrency: 2 });
    await eventually(async () => (await q.pendingChats()) === 0);
    // c was taken after a few of a's and b's updates, not after all 60 of them.
    expect(handled.indexOf('c:0')).toBeLessThan(10);
    for (const chat of ['a', 'b']) expect(handled.filter((p) => p.startsWith(`${chat}:`))).toEqual(Array.from({ length: 30 }, (_, i) => `${chat}:${i}`));
    expect(handled).toHaveLength(61);
  });

  it("lands a claim's writes with the acknowledgement, atomically: not before, the last write of a key wins, a delete deletes, the next item reads them", async () => {
    const prefix = fresh();
    const state = `${prefix}state:`;
    const q = queue(prefix);
    await ctx.redis.set(`${state}s`, 'v0');
    await ctx.redis.set(`${state}gone`, 'old', 'EX', 60);
    await q.enqueue('s', 's1', 'one');
    await q.enqueue('s', 's2', 'two');
    const seen: string[] = [];
    let duringFirst: (string | null)[] = [];
    q.consume(async (item) => {
      seen.push(`${item.payload}:${item.values?.join(',')}`);
      if (item.payload !== 'one') return;
      const claim = item.claim!;
      expect(await claim.write(`${state}s`, 'draft', 60)).toBe(true);
      expect(await claim.write(`${state}s`, 'v1', 120)).toBe(true);
      expect(await claim.write(`${state}gone`, null, 60)).toBe(true);
      expect([claim.pending(`${state}s`), claim.pending(`${state}gone`), claim.pending(`${state}other`)]).toEqual(['v1', null, undefined]);
      // Nothing has reached Redis while the update runs.
      duringFirst = await ctx.redis.mget(`${state}s`, `${state}gone`);
    }, { readPrefixes: [state] });
    await eventually(async () => (await q.pendingChats()) === 0);
    expect(duringFirst).toEqual(['v0', 'old']);
    expect(seen).toEqual(['one:v0', 'two:v1']);
    expect(await ctx.redis.get(`${state}s`)).toBe('v1');
    const ttl = await ctx.redis.ttl(`${state}s`);
    expect(ttl).toBeGreaterThan(60);
    expect(ttl).toBeLessThanOrEqual(120);
    expect(await ctx.redis.exists(`${state}gone`)).toBe(0);
  });

  it("a failing update's writes land with its retry (as they would have at once); a holder that dies mid-update leaves the state as the update found it", async () => {
    const prefix = fresh();
    const state = `${prefix}state:`;
    const leaseMs = 150;
    const q = queue(prefix, { baseBackoffMs: 10 });
    await q.enqueue('f', 'f1', 'flaky');
    const seen: string[] = [];
    q.consume(async (item) => {
      seen.push(`${item.attempt}:${item.values?.join(',')}`);
      await item.claim!.write(`${state}f`, `attempt ${item.attempt}`, 60);
      if (item.attempt === 1) throw new Error('fails once');
    }, { readPrefixes: [state] });
    await eventually(async () => (await q.pendingChats()) === 0);
    expect(seen).toEqual(['1:', '2:attempt 1']);
    expect(await ctx.redis.get(`${state}f`)).toBe('attempt 2');

    // A holder writes, then freezes (its heartbeats fail, as a dead process's would): the
    // consumer that takes the chat over runs the update on the state it had before.
    const prefix2 = fresh();
    const state2 = `${prefix2}state:`;
    await ctx.redis.set(`${state2}d`, 'before');
    const producer = queue(prefix2, { leaseMs });
    await producer.enqueue('d', 'd1', 'one');
    let releaseStalled!: () => void;
    const stalled = new Promise<void>((r) => (releaseStalled = r));
    let reached!: () => void;
    const atStall = new Promise<void>((r) => (reached = r));
    frozenQueue(prefix2, leaseMs).consume(async (item) => {
      await item.claim!.write(`${state2}d`, 'half-done', 60);
      reached();
      await stalled;
    }, { ...FROZEN, readPrefixes: [state2] });
    await atStall;
    const retaken: string[] = [];
    queue(prefix2, { leaseMs }).consume(async (item) => {
      retaken.push(`${item.payload}#${item.attempt}:${item.values?.join(',')}`);
      await item.claim!.write(`${state2}d`, 'done', 60);
    }, { readPrefixes: [state2] });
    await eventually(async () => (await producer.pendingChats()) === 0);
    releaseStalled();
    await new Promise((r) => setTimeout(r, 50));
    expect(retaken).toEqual(['one#2:before']);
    // The frozen holder's acknowledgement (and its write) was refused when it woke up.
    expect(await ctx.redis.get(`${state2}d`)).toBe('done');
  });

  it("a record for an idle chat is claimed for the recording process's own consumer in the same call; at its cap, it waits in ready", async () => {
    const prefix = fresh();
    const q = queue(prefix, { sweepMs: 60_000 });
    const handled: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    q.consume(async (item) => {
      handled.push(`${item.chat}:${item.payload}`);
      if (item.chat === 'd') await gate;
    }, { concurrency: 1 });
    await new Promise((r) => setTimeout(r, 20)); // the consumer's first (empty) claim
    expect(await q.enqueue('d', 'd1', 'one')).toBe('queued');
    // Claimed by the record itself: owned at once, never in `ready`.
    expect(await ctx.redis.hget(`${prefix}owners`, 'd')).not.toBeNull();
    expect(await ctx.redis.lrange(`${prefix}ready`, 0, -1)).toEqual([]);
    await eventually(async () => handled.length === 1);
    // The chat is busy: its next record joins its queue; another chat waits for room (cap 1).
    expect(await q.enqueue('d', 'd2', 'two')).toBe('queued');
    expect(await q.enqueue('e', 'e1', 'other')).toBe('queued');
    expect(await ctx.redis.lrange(`${prefix}ready`, 0, -1)).toEqual(['e']);
    expect(await ctx.redis.hget(`${prefix}owners`, 'e')).toBeNull();
    release();
    await eventually(async () => (await q.pendingChats()) === 0);
    // At the cap (1), d's next update waits its turn behind e, which was waiting (round robin).
    expect(handled).toEqual(['d:one', 'e:other', 'd:two']);
    expect(await q.enqueue('d', 'd1', 'one again')).toBe('duplicate');
  });

  it('after a Redis restart that lost its last writes, never hands a chat the token its stale holder still has', async () => {
    const prefix = fresh();
    const producer = queue(prefix);
    await producer.enqueue('s', 's1', 'one');
    await producer.enqueue('s', 's2', 'two');
    await ctx.redis.set(`${prefix}fence`, '41');
    // What the append-only file holds when the kill comes (appendfsync everysec, the disk stalled):
    // everything up to here, nothing after.
    const keys = await ctx.redis.keys(`${prefix}*`);
    const saved = await Promise.all(keys.map(async (key) => ({ key, dump: (await ctx.redis.dumpBuffer(key))!, ttl: await ctx.redis.pttl(key) })));
    const handled: string[] = [];
    const gate = () => {
      let open!: () => void;
      let reached!: () => void;
      const opened = new Promise<void>((r) => (open = r));
      const at = new Promise<void>((r) => (reached = r));
      return { open, at, pass: async () => (reached(), opened) };
    };
    const stale = gate();
    // The holder claims the chat and is still handling its first update when Redis dies.
    queue(prefix, { leaseMs: 60_000, sweepMs: 60_000 }).consume(
      async (item) => {
        handled.push(`stale:${item.payload}`);
        if (item.payload === 'one') await stale.pass();
      },
      { concurrency: 1 },
    );
    await stale.at;
    // Redis comes back on its file: the claim and the counter's last step are gone.
    await ctx.redis.del(...(await ctx.redis.keys(`${prefix}*`)));
    for (const { key, dump, ttl } of saved) await ctx.redis.restore(key, ttl > 0 ? ttl : 0, dump, 'REPLACE');
    const fresher = gate();
    queue(prefix, { leaseMs: 60_000 }).consume(async (item) => {
      handled.push(`fresh:${item.payload}`);
      if (item.payload === 'one') await fresher.pass();
    });
    await fresher.at;
    // The stale holder finishes now: its acknowledgement must be refused, not taken as the
    // fresh holder's (which would pop the update being handled and run the next one beside it).
    stale.open();
    await new Promise((r) => setTimeout(r, 100));
    fresher.open();
    await eventually(async () => (await producer.pendingChats()) === 0);
    expect(handled).toEqual(['stale:one', 'fresh:one', 'fresh:two']);
    expect(await ctx.redis.llen(`${prefix}q:s`)).toBe(0);
  });
});
