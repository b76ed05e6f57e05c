import { Redis, type RedisOptions } from 'ioredis';

export type { Redis };

export interface RedisSettings {
  url: string;
  /**
   * "worker": blocking BullMQ connections, which must wait forever for Redis to come back
   * (maxRetriesPerRequest: null). "client": requests fail fast when Redis is down, so HTTP
   * handlers and /health answer instead of hanging.
   */
  role: 'worker' | 'client';
  name?: string;
  /** "client" only: writePerTurn's `gapMs` (default WRITE_GAP_MS). */
  writeGapMs?: number;
}

/**
 * A busy client connection writes at most once per this many ms (writePerTurn). Measured in
 * bench 1b at 2500 updates/s, three alternated 10 s runs each: the bot process's CPU per update
 * 311 / 329 / 313 µs with a write every turn, 305 / 298 / 301 µs with 1 ms, 287 / 292 / 284 µs
 * with 2 ms (the bare grammY bot's 283–300 µs in the same runs), p50 latency +1 ms and +2.4 ms.
 */
export const WRITE_GAP_MS = 1;

export function createRedis(settings: RedisSettings): Redis {
  const options: RedisOptions = {
    connectionName: settings.name,
    lazyConnect: false,
    // Reconnect with a capped backoff; never give up (a process outlives a Redis restart). At
    // most a second between tries: a restarted Redis is found within a second (drill:redis).
    retryStrategy: (times) => Math.min(times * 100, 1_000),
    ...(settings.role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: false }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: true, connectTimeout: 2_000, commandTimeout: 5_000 }),
  };
  const redis = new Redis(settings.url, options);
  // Blocking BullMQ connections send one command and wait: nothing to gather there.
  return settings.role === 'client' ? writePerTurn(redis, { gapMs: settings.writeGapMs }) : redis;
}

/**
 * The commands one turn of the event loop sends on this connection leave in one socket
 * write: the socket is corked at the turn's first command and uncorked by a setImmediate,
 * which runs once the turn's I/O callbacks (and their promise chains) are done. Order and
 * replies are as before. An idle connection's command waits for no later turn (a pending
 * immediate keeps the loop from blocking in its poll), so a lone command costs microseconds,
 * not a timer. A busy one (its last write less than `gapMs` ago and either joined several
 * commands or still awaits replies) is uncorked by a timer `gapMs` after the first command of
 * its batch instead, so the commands of the turns in between join that write: at most one
 * write per `gapMs` (default WRITE_GAP_MS, 0: one per turn) while busy, each command delayed by
 * at most that. A lone caller's chain of awaited commands is never held (each is sent when the
 * previous reply came: one command per write, nothing in flight). The saving grows with the
 * load, where it counts: Redis read 5,893 client writes over bench 1b's 1500/s for 10 s (with
 * its warm-up) with every write within the gap held, 6,166–6,308 with this rule, 14,506 with a
 * write every turn.
 *
 * Why: on the 2-core VMs here a write to Redis costs ~50 µs of the sender's CPU, most of it
 * the kernel waking the idle Redis process on the other core, and the inbound queue sends
 * two or three commands per update (record, claim, acknowledgement). Under load the webhooks
 * and replies of several chats land in one turn (at 2000 updates/s, 52,000 commands went out
 * in 20,500 writes; the bot process's CPU per update 482 → 449–459 µs, p99 146–159 → 90–94 ms
 * in bench 1b); unlike ioredis' auto-pipelining (batches per microtask tick, a pipeline object
 * per batch, measured worse) this costs nothing when there is nothing to gather.
 */
export function writePerTurn(redis: Redis, options: { gapMs?: number } = {}): Redis {
  const gapMs = options.gapMs ?? WRITE_GAP_MS;
  if (!(gapMs >= 0 && gapMs <= 1_000)) throw new Error(`writePerTurn: gapMs must be 0 to 1000, not ${gapMs}`);
  const send = redis.sendCommand.bind(redis);
  const internals = redis as unknown as { stream?: { cork(): void; uncork(): void; writable?: boolean }; commandQueue?: { length: number } };
  let corked: { uncork(): void } | undefined;
  /** When the last batch was written (performance.now()), and how many commands it held. */
  let lastWrite = -Infinity;
  let lastBatch = 0;
  let batch = 0;
  const uncork = () => {
    const stream = corked;
    corked = undefined;
    lastWrite = performance.now();
    lastBatch = batch;
    batch = 0;
    stream?.uncork();
  };
  redis.sendCommand = ((command: Parameters<Redis['sendCommand']>[0], stream?: Parameters<Redis['sendCommand']>[1]) => {
    if (corked !== undefined) {
      batch += 1;
      return send(command, stream);
    }
    // Only the live connection (a command for the offline queue is written on reconnect).
    const socket = internals.stream;
    if (stream === undefined && redis.status === 'ready' && socket?.writable) {
      socket.cork();
      corked = socket;
      batch = 1;
      // Busy: written less than the gap ago, and others are at work on this connection (the last
      // write joined several commands, or replies are still awaited). A lone caller's chain of
      // awaited commands (each sent when the previous one's reply came) is never held.
      const busy = gapMs > 0 && performance.now() - lastWrite < gapMs && (lastBatch > 1 || (internals.commandQueue?.length ?? 0) > 0);
      if (busy) setTimeout(uncork, gapMs);
      else setImmediate(uncork);
    }
    return send(command, stream);
  }) as Redis['sendCommand'];
  return redis;
}
