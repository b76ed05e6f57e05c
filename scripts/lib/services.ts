/**
 * Are PostgreSQL and Redis there? Used by `npm start` before migrating: when one is missing
 * on this machine and Docker Compose works, it starts the project's own services
 * (`docker compose up -d postgres redis`) and waits until they answer; otherwise it says in
 * two lines what to run or install, instead of a stack trace later.
 */
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { Redis } from 'ioredis';

export interface ServiceTarget {
  /** "PostgreSQL", "Redis" */
  name: string;
  /** The docker-compose.yml service that provides it. */
  service: 'postgres' | 'redis';
  /** The configured URL (DATABASE_URL / REDIS_URL). */
  url: string;
  variable: 'DATABASE_URL' | 'REDIS_URL';
}

export interface ServicesDeps {
  /** True when the service answers a real request (a query, a PING). */
  probe(target: ServiceTarget): Promise<boolean>;
  /** Docker Compose with a running engine. */
  dockerAvailable(): boolean;
  /** `docker compose up -d <services>`; false when it failed. */
  composeUp(services: string[]): boolean;
  sleep(ms: number): Promise<void>;
  log(line: string): void;
  /** How long to wait for started services to answer. */
  waitMs?: number;
}

export type ServicesOutcome = { ok: true; started: string[] } | { ok: false; message: string[] };

/** host:port of a URL, without credentials (for messages). */
export function where(url: string): string {
  try {
    const u = new URL(url);
    return u.port ? `${u.hostname}:${u.port}` : u.hostname;
  } catch {
    return '(unparsable URL)';
  }
}

const LOCAL = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export async function ensureServices(targets: ServiceTarget[], deps: ServicesDeps): Promise<ServicesOutcome> {
  const missing: ServiceTarget[] = [];
  for (const t of targets) if (!(await deps.probe(t))) missing.push(t);
  if (missing.length === 0) return { ok: true, started: [] };

  const names = missing.map((t) => `${t.name} at ${where(t.url)}`).join(' and ');
  // Docker Compose publishes on this machine only: a remote URL is not ours to start.
  const local = missing.every((t) => LOCAL.has(new URL(t.url).hostname));
  if (local && deps.dockerAvailable()) {
    const services = missing.map((t) => t.service);
    deps.log(`${names}: not reachable. Starting them: docker compose up -d ${services.join(' ')}`);
    if (deps.composeUp(services)) {
      const deadline = (deps.waitMs ?? 90_000);
      for (let waited = 0; waited <= deadline; waited += 1000) {
        const still: ServiceTarget[] = [];
        for (const t of missing) if (!(await deps.probe(t))) still.push(t);
        if (still.length === 0) {
          deps.log(`${missing.map((t) => t.name).join(' and ')} ready.`);
          return { ok: true, started: services };
        }
        await deps.sleep(1000);
      }
      return { ok: false, message: [`Started ${services.join(' and ')} with Docker Compose, but ${names} did not answer within ${Math.round(deadline / 1000)} s.`, 'See `docker compose ps` and `docker compose logs postgres redis`, then run `npm start` again.'] };
    }
  }
  const vars = missing.map((t) => t.variable).join(' / ');
  return {
    ok: false,
    message: [
      `Kabinet needs PostgreSQL 14+ and Redis 6.2+, and cannot reach ${names} (${vars}).`,
      local
        ? 'Start them with `docker compose up -d postgres redis` (needs Docker), or install and start PostgreSQL and Redis locally; then run `npm start` again.'
        : `Check ${vars} in .env (or the environment) and that the server is up; then run \`npm start\` again.`,
    ],
  };
}

/** The real probes and Docker, for scripts/services.ts. */
export function realServicesDeps(): ServicesDeps {
  return {
    async probe(target) {
      if (target.service === 'postgres') {
        // The server, not the database: `db:migrate` creates the database when it is missing.
        const url = new URL(target.url);
        url.pathname = '/postgres';
        const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 2000 });
        client.on('error', () => {});
        try {
          await client.connect();
          await client.query('SELECT 1');
          return true;
        } catch {
          return false;
        } finally {
          await client.end().catch(() => {});
        }
      }
      const redis = new Redis(target.url, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
      redis.on('error', () => {});
      try {
        await redis.connect();
        return (await redis.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        redis.disconnect();
      }
    },
    dockerAvailable() {
      const compose = spawnSync('docker', ['compose', 'version'], { stdio: 'ignore', timeout: 10_000 });
      if (compose.status !== 0) return false;
      // The client may exist without an engine to talk to.
      return spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 15_000 }).status === 0;
    },
    composeUp(services) {
      return spawnSync('docker', ['compose', 'up', '-d', ...services], { stdio: 'inherit' }).status === 0;
    },
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    log: (line) => console.log(line),
  };
}
