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
  return new Redis(settings.url, options);
}
