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
}

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
  return settings.role === 'client' ? writePerTurn(redis) : redis;
}

/**
 * The commands one turn of the event loop sends on this connection leave in one socket
 * write: the socket is corked at the turn's first command and uncorked by a setImmediate,
 * which runs once the turn's I/O callbacks (and their promise chains) are done. Order and
 * replies are as before; no command waits for a later turn (a pending immediate keeps the
 * loop from blocking in its poll), so a lone command costs microseconds, not a timer.
 *
 * Why: on the 2-core VMs here a write to Redis costs ~50 µs of the sender's CPU, most of it
 * the kernel waking the idle Redis process on the other core, and the inbound queue sends
 * two or three commands per update (record, claim, acknowledgement). Under load the webhooks
 * and replies of several chats land in one turn (at 2000 updates/s, 52,000 commands went out
 * in 20,500 writes; the bot process's CPU per update 482 → 449–459 µs, p99 146–159 → 90–94 ms
 * in bench 1b); unlike ioredis' auto-pipelining (batches per microtask tick, a pipeline object
 * per batch, measured worse) this costs nothing when there is nothing to gather.
 */
export function writePerTurn(redis: Redis): Redis {
  const send = redis.sendCommand.bind(redis);
  let corked: { uncork(): void } | undefined;
  const uncork = () => {
    const stream = corked;
    corked = undefined;
    stream?.uncork();
  };
  redis.sendCommand = ((command: Parameters<Redis['sendCommand']>[0], stream?: Parameters<Redis['sendCommand']>[1]) => {
    // Only the live connection (a command for the offline queue is written on reconnect).
    const socket = (redis as unknown as { stream?: { cork(): void; uncork(): void; writable?: boolean } }).stream;
    if (corked === undefined && stream === undefined && redis.status === 'ready' && socket?.writable) {
      socket.cork();
      corked = socket;
      setImmediate(uncork);
    }
    return send(command, stream);
  }) as Redis['sendCommand'];
  return redis;
}
