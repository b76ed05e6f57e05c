import type { PrismaClient } from '../infra/prisma.js';
import type { Redis } from '../infra/redis.js';
import { clip } from '../lib/clip.js';

export interface HealthCheck {
  name: string;
  check(): Promise<void>;
}

export interface HealthReport {
  status: 'ok' | 'fail';
  checks: Record<string, { status: 'ok' | 'fail'; latencyMs: number; error?: string }>;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms); }),
  ]);
}

export const postgresCheck = (prisma: PrismaClient): HealthCheck => ({
  name: 'postgres',
  check: async () => { await prisma.$queryRaw`SELECT 1`; },
});

export const redisCheck = (redis: Redis): HealthCheck => ({
  name: 'redis',
  check: async () => {
    // A lost connection must fail now, not wait in ioredis' offline queue until Redis returns.
    if (['reconnecting', 'close', 'end'].includes(redis.status)) throw new Error(`connection ${redis.status}`);
    const pong = await redis.ping();
    if (pong !== 'PONG') throw new Error(`unexpected reply ${pong}`);
  },
});

/** Runs every check in parallel with a timeout; each reports separately. */
export async function runHealthChecks(checks: HealthCheck[], timeoutMs = 2_000): Promise<HealthReport> {
  const results = await Promise.all(
    checks.map(async (c) => {
      const started = performance.now();
      try {
        await withTimeout(c.check(), timeoutMs);
        return [c.name, { status: 'ok' as const, latencyMs: Math.round(performance.now() - started) }] as const;
      } catch (err) {
        return [c.name, { status: 'fail' as const, latencyMs: Math.round(performance.now() - started), error: clip((err as Error).message, 200) }] as const;
      }
    }),
  );
  const checksOut = Object.fromEntries(results);
  return { status: results.every(([, r]) => r.status === 'ok') ? 'ok' : 'fail', checks: checksOut };
}
