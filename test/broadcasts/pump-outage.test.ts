/** The broadcast pump during a PostgreSQL outage: a warning naming it, no error with a stack. */
import { describe, expect, it } from 'vitest';
import { createBroadcastPump } from '../../src/broadcasts/pump.js';
import { createBroadcastsService } from '../../src/domain/broadcasts/broadcasts.service.js';
import { fixedClock } from '../../src/infra/clock.js';
import { createLogger } from '../../src/infra/logger.js';
import { createPrisma } from '../../src/infra/prisma.js';
import { freePort } from '../support/net.js';

describe('broadcast pump', () => {
  it('skips a pass with a warning while PostgreSQL is away, and a bug stays an error', async () => {
    const lines: Array<{ level: number; msg: string; dependency?: string; err?: unknown }> = [];
    const logger = createLogger({ level: 'info', destination: { write: (l: string) => { lines.push(JSON.parse(l)); } } });
    const prisma = createPrisma({ databaseUrl: `postgresql://kabinet:x@127.0.0.1:${await freePort()}/none` });
    const clock = fixedClock(new Date('2026-03-01T10:00:00Z'));
    const deps = {
      prisma, redis: {} as never, redisKeyPrefix: 'x:', queues: {} as never, clock, logger, translator: {} as never,
      ratePerSecond: { telegram: 30, vk: 20 }, platforms: ['telegram' as const], maxAttempts: 1, backoffMs: 10, progressIntervalMs: 1000,
    };
    try {
      const service = createBroadcastsService({ prisma, clock } as never);
      await createBroadcastPump({ ...deps, service }).tick();
      expect(lines.filter((l) => l.level >= 50)).toEqual([]);
      expect(lines).toContainEqual(expect.objectContaining({ level: 40, dependency: 'postgres', msg: expect.stringMatching(/dependency is unavailable/) }));

      lines.length = 0;
      const broken = { startDue: () => Promise.reject(new TypeError('x is not a function')) } as never;
      await createBroadcastPump({ ...deps, service: broken }).tick();
      expect(lines).toContainEqual(expect.objectContaining({ level: 50, msg: 'broadcast pump pass failed' }));
    } finally {
      await prisma.$disconnect();
    }
  });
});
