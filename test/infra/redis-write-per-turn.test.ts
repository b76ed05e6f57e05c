/**
 * Kabinet's Redis client connection: the commands of one event-loop turn leave in one socket
 * write, replies and order unchanged, across a reconnect and with pipelines and scripts.
 * Counted at a TCP proxy between the client and the real Redis.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis as IORedis } from 'ioredis';
import { createRedis, writePerTurn, type Redis } from '../../src/infra/redis.js';
import { TEST_REDIS_URL } from '../support/env.js';

let proxy: net.Server;
let port: number;
/** Chunks the proxy read from the client, per connection. */
const reads: number[] = [];
const upstream = new URL(TEST_REDIS_URL);
const links = new Set<net.Socket>();
beforeAll(async () => {
  proxy = net.createServer((client) => {
    const index = reads.push(0) - 1;
    const server = net.connect(Number(upstream.port || 6379), upstream.hostname);
    links.add(client).add(server);
    client.on('data', (chunk) => {
      reads[index]! += 1;
      server.write(chunk);
    });
    server.pipe(client);
    const close = () => (client.destroy(), server.destroy());
    client.on('error', close).on('close', close);
    server.on('error', close).on('close', close);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  port = (proxy.address() as AddressInfo).port;
});
afterAll(async () => {
  for (const s of links) s.destroy();
  await new Promise((r) => proxy.close(r));
});

const prefix = `kabinet-test:per-turn:${process.pid}:`;
async function connected(writeGapMs?: number): Promise<Redis> {
  const redis = createRedis({ url: `redis://127.0.0.1:${port}`, role: 'client', name: 'per-turn-test', ...(writeGapMs === undefined ? {} : { writeGapMs }) });
  await redis.ping();
  return redis;
}
/**
 * Counts the writes the client's socket hands to the kernel (its _write and _writev, each one
 * syscall) until `stop()`.
 */
function countWrites(redis: Redis): { readonly writes: number; reset(): void; stop(): void } {
  const socket = (redis as unknown as { stream: net.Socket & { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void } }).stream;
  const write = socket._write;
  const writev = socket._writev;
  let writes = 0;
  socket._write = (...a: unknown[]) => (writes++, write.apply(socket, a));
  socket._writev = (...a: unknown[]) => (writes++, writev.apply(socket, a));
  return {
    get writes() {
      return writes;
    },
    reset: () => void (writes = 0),
    stop() {
      socket._write = write;
      socket._writev = writev;
    },
  };
}

/**
 * The writes while fn ran (countWrites), and the reads the proxy saw on the connection (at
 * least one per write turn; the kernel may join writes the proxy had not read yet).
 */
async function writesDuring(redis: Redis, fn: () => Promise<unknown>): Promise<{ writes: number; reads: number }> {
  const counter = countWrites(redis);
  await new Promise((r) => setTimeout(r, 20));
  const index = reads.length - 1;
  const before = reads[index]!;
  try {
    await fn();
  } finally {
    counter.stop();
  }
  await new Promise((r) => setTimeout(r, 20));
  return { writes: counter.writes, reads: reads[index]! - before };
}

describe('Redis client connection: one write per event-loop turn', () => {
  it('sends the commands of one turn in one write, with every reply in order', async () => {
    const redis = await connected();
    try {
      let replies: unknown[] = [];
      const batch = await writesDuring(redis, async () => {
        const calls: Promise<unknown>[] = [];
        for (let i = 0; i < 50; i++) calls.push(redis.set(`${prefix}k${i}`, `v${i}`, 'EX', 60));
        for (let i = 0; i < 50; i++) calls.push(redis.get(`${prefix}k${i}`));
        calls.push(redis.eval('return ARGV[1] .. KEYS[1]', 1, 'key', 'arg'));
        replies = await Promise.all(calls);
      });
      expect(batch).toEqual({ writes: 1, reads: 1 });
      expect(replies.slice(0, 50)).toEqual(Array(50).fill('OK'));
      expect(replies.slice(50, 100)).toEqual(Array.from({ length: 50 }, (_, i) => `v${i}`));
      expect(replies[100]).toBe('argkey');
      // A command awaited before the next is sent alone (within the write gap, below, not later).
      const sequential = await writesDuring(redis, async () => {
        for (let i = 0; i < 5; i++) expect(await redis.get(`${prefix}k${i}`)).toBe(`v${i}`);
      });
      expect(sequential).toEqual({ writes: 5, reads: 5 });
      // A pipeline and a MULTI of the same turn keep their order among the plain commands.
      const mixed = await Promise.all([redis.incr(`${prefix}n`), redis.pipeline().incr(`${prefix}n`).incr(`${prefix}n`).exec(), redis.multi().incr(`${prefix}n`).exec(), redis.incr(`${prefix}n`)]);
      expect(mixed).toEqual([1, [[null, 2], [null, 3]], [[null, 4]], 5]);
    } finally {
      await redis.del(...Array.from({ length: 50 }, (_, i) => `${prefix}k${i}`), `${prefix}n`);
      await redis.quit();
    }
  });

  it('a busy connection gathers the commands of the turns within its write gap into one write; an idle one, or a lone chain of awaited commands, writes in the same turn', async () => {
    // A long gap, so that "within the gap" holds however slow the machine is.
    const redis = await connected(300);
    const counter = countWrites(redis);
    const nextTurn = () => new Promise((r) => setImmediate(r));
    try {
      await redis.set(`${prefix}gap`, 'v', 'EX', 60);
      await new Promise((r) => setTimeout(r, 400)); // idle: the last write is older than the gap
      counter.reset();
      // Idle: written by the turn's immediate, before any timer.
      const first = redis.get(`${prefix}gap`);
      await nextTurn();
      expect(counter.writes).toBe(1);
      expect(await first).toBe('v');
      // Within the gap, but a lone chain (the last write one command, its reply back): not held.
      const second = redis.get(`${prefix}gap`);
      await nextTurn();
      expect(counter.writes).toBe(2);
      expect(await second).toBe('v');
      // Two callers in one turn: one write, at once...
      const both = Promise.all([redis.incr(`${prefix}gap:n`), redis.incr(`${prefix}gap:n`)]);
      await nextTurn();
      expect(counter.writes).toBe(3);
      // ...and now the connection is busy (its last write joined two): this turn's command waits
      // for the gap, and the commands of the next turns join it, in order.
      const third = redis.incr(`${prefix}gap:n`);
      await nextTurn();
      expect(counter.writes).toBe(3);
      await nextTurn();
      const fourth = redis.incr(`${prefix}gap:n`);
      await nextTurn();
      const fifth = redis.get(`${prefix}gap`);
      expect(await Promise.all([both, third, fourth, fifth])).toEqual([[1, 2], 3, 4, 'v']);
      expect(counter.writes).toBe(4);
    } finally {
      counter.stop();
      await redis.del(`${prefix}gap`, `${prefix}gap:n`);
      await redis.quit();
    }
  });

  it('refuses a write gap that is not 0 to 1000 ms', () => {
    for (const gapMs of [-1, Number.NaN, 5_000]) expect(() => writePerTurn(new IORedis({ lazyConnect: true }), { gapMs })).toThrow(/gapMs/);
  });

  it('keeps working when the connection is cut mid-turn: queued commands are written after the reconnect', async () => {
    const redis = await connected();
    try {
      await redis.set(`${prefix}cut`, 'before', 'EX', 60);
      // Cut every live proxied connection; the client reconnects on its own.
      for (const s of links) s.destroy();
      const replies = await Promise.all([redis.get(`${prefix}cut`), redis.set(`${prefix}cut`, 'after', 'EX', 60), redis.get(`${prefix}cut`)]).catch(async () => {
        // A command written into the dying socket fails (maxRetriesPerRequest 1); the next turn works.
        await new Promise((r) => setTimeout(r, 300));
        return [null, await redis.set(`${prefix}cut`, 'after', 'EX', 60), await redis.get(`${prefix}cut`)];
      });
      expect(replies.slice(1)).toEqual(['OK', 'after']);
      expect(await redis.get(`${prefix}cut`)).toBe('after');
    } finally {
      await redis.del(`${prefix}cut`);
      await redis.quit();
    }
  });
});
