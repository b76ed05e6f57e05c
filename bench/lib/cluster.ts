/**
 * Kabinet as it is deployed: `src/main.ts web` and `src/main.ts worker` as separate child
 * processes (production config from the environment), several of each behind the same Redis
 * and PostgreSQL, and a round-robin HTTP balancer in front of the web instances, as a load
 * balancer would be. Used by bench/scale.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import { loadavg } from 'node:os';
import type { Env } from '../../src/config/index.js';

export interface RoleProcess {
  role: 'web' | 'worker';
  pid: number;
  /** SIGTERM (graceful: stop receiving, finish jobs), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts `tsx src/main.ts <role>` with `env` over the bench's own environment. Its output is the bench's. */
/**
 * Starts `src/main.ts <role>` in a child process. `cpus` (taskset's list, "0" or "0,1") pins it
 * to those cores (taskset execs the process: the pid is the role's own).
 */
export function startRole(role: 'web' | 'worker', env: Env, cpus?: string): RoleProcess {
  const argv = ['--import', 'tsx', 'src/main.ts', role];
  const child: ChildProcess = spawn(cpus ? 'taskset' : process.execPath, cpus ? ['-c', cpus, process.execPath, ...argv] : argv, {
    env: { ...process.env, ...env } as NodeJS.ProcessEnv,
    // Only errors are logged (LOG_LEVEL=error): let them show.
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // The bench died or was stopped by its watchdog: do not leave instances behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  return {
    role,
    pid: child.pid!,
    async stop(graceMs = 15_000) {
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls until `n` workers (of any process) are on `queue`: they started and take jobs. */
export async function waitForQueueWorkers(queue: { getWorkersCount(): Promise<number> }, n: number, label: string, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while ((await queue.getWorkersCount()) < n) {
    if (Date.now() > until) throw new Error(`${label}: ${n} worker(s) did not start within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Polls `url` until it answers 200 (a web instance is listening and its checks pass). */
export async function waitForOk(url: string, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`${url} did not answer 200 within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface Balancer {
  /** http://127.0.0.1:<port> */
  origin: string;
  /** Requests forwarded to each backend, in the order given. */
  readonly forwarded: number[];
  /** Requests that could not be forwarded (answered 502). */
  readonly failed: number;
  close(): Promise<void>;
}

/**
 * A round-robin reverse proxy on loopback: every request goes to the next backend, so
 * consecutive updates of one chat land on different web instances (the worst case for
 * per-chat order). Bodies and answers are streamed through unchanged.
 */
export async function startBalancer(backends: string[]): Promise<Balancer> {
  if (backends.length === 0) throw new Error('balancer: no backends');
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const targets = backends.map((b) => new URL(b));
  const forwarded = targets.map(() => 0);
  let failed = 0;
  let next = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const i = next;
    next = (next + 1) % targets.length;
    const target = targets[i]!;
    forwarded[i]! += 1;
    const upstream = request(
      { agent, host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      failed += 1;
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('balancer: no address');
  return {
    origin: `http://127.0.0.1:${address.port}`,
    forwarded,
    get failed() {
      return failed;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}

/** "1.23 / 1.10 / 0.98" (1, 5 and 15 minutes): every figure is printed with the load it was measured under. */
export const loadAverage = () => loadavg().map((x) => x.toFixed(2)).join(' / ');
