/**
 * Kabinet as it is deployed: `src/main.ts web` and `src/main.ts worker` as separate child
 * processes (or `all`, both roles in one), production config from the environment, several
 * behind the same Redis and PostgreSQL, and a round-robin balancer (HTTP, or TCP) in front of
 * the web instances, as a load balancer would be. Used by bench/scale.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, connect, type Server as NetServer, type Socket } from 'node:net';
import { loadavg } from 'node:os';
import type { Env } from '../../src/config/index.js';
import type { CpuGroup } from './cpu-group.js';

export interface RoleProcess {
  role: 'web' | 'worker' | 'all';
  pid: number;
  /** SIGTERM (graceful: stop receiving, finish jobs), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `src/main.ts <role>` in a child process (`all`: both roles in one process, as `npm run dev`),
 * with `env` over the bench's own environment; its output is the bench's. `cpus` (taskset's list, "0" or "0,1") pins it
 * to those cores (taskset execs the process: the pid is the role's own). `cpuGroup` starts it
 * inside that cgroup (bench/lib/cpu-group.ts), under its CPU quota: a shell joins the group and
 * execs the process, so it never runs a moment outside it and the pid is still the role's own.
 */
export function startRole(role: 'web' | 'worker' | 'all', env: Env, cpus?: string, cpuGroup?: CpuGroup): RoleProcess {
  const argv = [...(cpus ? ['taskset', '-c', cpus] : []), process.execPath, '--import', 'tsx', 'src/main.ts', role];
  const [command, ...args] = cpuGroup ? ['sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cpuGroup.dir, ...argv] : argv;
  const child: ChildProcess = spawn(command!, args, {
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
  return serveBalancer(server, forwarded, () => failed, () => {
    server.closeAllConnections();
    agent.destroy();
  });
}

/** The start of an HTTP request's head. */
const REQUEST_START = /^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) \//;

/**
 * A round-robin balancer at the TCP level (BENCH_SCALE_BALANCER=tcp): each connection goes to
 * the next backend and its bytes are relayed unparsed, as an L4 load balancer does. The fake's
 * keep-alive connections (≤40) are spread over the webs and a chat's consecutive updates ride
 * whichever connection is free, so they still land on different webs; what it saves is the
 * HTTP proxy's parsing and re-serialising of every request and answer in the bench process,
 * which shares the two cores with the instances measured. `forwarded` counts the requests
 * relayed to each backend: chunks from the client that begin with an HTTP method (a client
 * writes a request's head in one piece; the bodies here are JSON).
 */
export async function startTcpBalancer(backends: string[]): Promise<Balancer> {
  if (backends.length === 0) throw new Error('balancer: no backends');
  const targets = backends.map((b) => new URL(b));
  const forwarded = targets.map(() => 0);
  let failed = 0;
  let next = 0;
  const open = new Set<Socket>();
  const server = createTcpServer((client) => {
    const i = next;
    next = (next + 1) % targets.length;
    const upstream = connect({ host: targets[i]!.hostname, port: Number(targets[i]!.port) });
    client.on('data', (chunk: Buffer) => {
      if (REQUEST_START.test(chunk.subarray(0, 8).toString('latin1'))) forwarded[i]! += 1;
    });
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      open.add(s);
      s.once('close', () => open.delete(s));
    }
    const fail = () => {
      failed += 1;
      client.destroy();
      upstream.destroy();
    };
    upstream.once('error', fail);
    client.once('error', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return serveBalancer(server, forwarded, () => failed, () => {
    for (const s of open) s.destroy();
  });
}

/** Listens on a loopback port; `drop` ends the balancer's open connections before it closes. */
async function serveBalancer(server: NetServer, forwarded: number[], failed: () => number, drop: () => void): Promise<Balancer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('balancer: no address');
  return {
    origin: `http://127.0.0.1:${address.port}`,
    forwarded,
    get failed() {
      return failed();
    },
    async close() {
      drop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** "1.23 / 1.10 / 0.98" (1, 5 and 15 minutes): every figure is printed with the load it was measured under. */
export const loadAverage = () => loadavg().map((x) => x.toFixed(2)).join(' / ');
