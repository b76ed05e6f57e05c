/**
 * What a benchmark run owns: its database (dropped and rebuilt from migrations and the seed
 * at start, dropped at the end), its Redis key and queue prefixes (removed at the end, and
 * leftovers of killed runs at start), and free loopback ports.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import pg from 'pg';
import { Redis } from 'ioredis';
import { loadConfig, type Config, type Env } from '../../src/config/index.js';
import { createInfrastructure, type Infrastructure } from '../../src/infra/infrastructure.js';
import { ensureDatabase, migrate } from '../../src/infra/migrator.js';
import { createPrisma } from '../../src/infra/prisma.js';
import { seed } from '../../prisma/seed.js';

export const PG_ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** BENCH_RUN=<name> gives a run its own database and keys, so runs from two checkouts on one machine do not drop each other's. */
const RUN = process.env.BENCH_RUN && /^[a-z0-9_]{1,20}$/.test(process.env.BENCH_RUN) ? process.env.BENCH_RUN : undefined;
export const DATABASE_NAME = RUN ? `kabinet_bench_${RUN}` : 'kabinet_bench';
/** Every Redis key of a bench run starts with this (both Kabinet's own keys and BullMQ's). */
const KEY_MARK = RUN ? `kbench_${RUN}-` : 'kbench-';

export function databaseUrl(name = DATABASE_NAME): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Drops kabinet_bench, creates it, applies prisma/migrations and the demo seed. */
export async function freshDatabase(): Promise<{ url: string; seeded: { products: number; customers: number; orders: number } }> {
  await admin((c) => c.query(`DROP DATABASE IF EXISTS "${DATABASE_NAME}" WITH (FORCE)`));
  const url = databaseUrl();
  await ensureDatabase(url);
  await migrate(url, 'prisma/migrations');
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: url });
  const prisma = createPrisma({ databaseUrl: url });
  try {
    return { url, seeded: await seed(prisma, config) };
  } finally {
    await prisma.$disconnect();
  }
}

/**
 * Committed + rolled-back transactions of kabinet_bench so far. Backends publish their
 * counters when idle, at most once a second, so this waits a moment first. Prisma runs each
 * query outside an explicit transaction as its own, so the difference across a loop is
 * about the number of statements it sent.
 */
export async function databaseTransactions(): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const { rows } = await admin((c) => c.query<{ n: string }>('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1', [DATABASE_NAME]));
  return Number(rows[0]?.n ?? NaN);
}

export const dropDatabase = () => admin((c) => c.query(`DROP DATABASE IF EXISTS "${DATABASE_NAME}" WITH (FORCE)`));

/** Deletes every key matching the patterns (SCAN, so a large Redis is not blocked). */
export async function deleteKeys(patterns: string[]): Promise<number> {
  const redis = new Redis(REDIS_URL);
  let deleted = 0;
  try {
    for (const pattern of patterns) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        if (keys.length) deleted += await redis.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    await redis.quit();
  }
  return deleted;
}

/** Keys of earlier bench runs (a killed run leaves them behind). */
export const deleteBenchKeys = () => deleteKeys([`{${KEY_MARK}*`, `${KEY_MARK}*`]);

/**
 * One part of the run: Kabinet's clients with their own Redis prefixes, so a phase's queues
 * (and their rate limiter) and sessions never see another phase's.
 */
export interface Phase extends Infrastructure {
  prefix: string;
  /** The environment the phase's config was loaded from (for child processes of the same phase). */
  env: Env;
}

/**
 * A phase's own prefix and Kabinet's environment for it (production, the bench database, the
 * phase's Redis prefixes): for Kabinet in this process (createPhase) or in a child process
 * started as production starts it (`src/main.ts web|worker`).
 */
export function phaseEnv(name: string, env: Env = {}): { prefix: string; env: Record<string, string>; deleteKeys(): Promise<number> } {
  const prefix = `${KEY_MARK}${name}-${randomBytes(3).toString('hex')}`;
  const all: Record<string, string> = {
    NODE_ENV: 'production',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'error',
    DATABASE_URL: databaseUrl(),
    REDIS_URL,
    QUEUE_PREFIX: `{${prefix}}`,
    REDIS_KEY_PREFIX: `${prefix}:`,
    OTP_SECRET: 'bench-otp-secret-0123456789abcdef',
    SHOP_API_SECRET: SHOP_SECRET,
    // Production refuses the log provider with VK on; benchmarks send no SMS (a dead local port).
    SMS_PROVIDER: 'http',
    SMS_HTTP_URL: 'http://127.0.0.1:9/sms',
  };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) all[k] = v;
  return { prefix, env: all, deleteKeys: () => deleteKeys([`{${prefix}}*`, `${prefix}:*`]) };
}

export async function createPhase(name: string, env: Env): Promise<Phase> {
  const phase = phaseEnv(name, env);
  const config: Config = loadConfig(phase.env);
  const infra = await createInfrastructure(config);
  return {
    ...infra,
    prefix: phase.prefix,
    env: phase.env,
    async close() {
      await infra.close();
      await phase.deleteKeys();
    },
  };
}

export const SHOP_SECRET = 'bench-shop-secret-0123456789';

/** A port that was free a moment ago (for roles that must know their URL before listening). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export function machine(): string {
  const cpu = cpus();
  return `${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}, ${process.platform}/${process.arch}`;
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** RSS and heap, after a full GC so the figure is what stays, not garbage. */
export function memory(): { rss: number; heapUsed: number; external: number } {
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external };
}
