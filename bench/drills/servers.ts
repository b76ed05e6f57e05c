/**
 * The drills' own Redis and PostgreSQL: servers on spare loopback ports in a temporary
 * directory, started, killed and started again by the drill, so a fault never touches the
 * machine's shared servers (127.0.0.1:6379 and :5432) or another engineer's run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { own } from './children.js';

const REDIS_SERVER = process.env.DRILL_REDIS_SERVER ?? '/usr/bin/redis-server';
/** PostgreSQL's binaries (initdb, postgres); Debian keeps them under /usr/lib/postgresql/<v>/bin. */
const PG_BIN = process.env.DRILL_PG_BIN ?? findPgBin();

function findPgBin(): string {
  const found = spawnSync('sh', ['-c', 'ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1'], { encoding: 'utf8' }).stdout.trim();
  return found || '/usr/lib/postgresql/15/bin';
}

function waitForLine(proc: ChildProcess, pattern: RegExp, what: string, timeoutMs = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${timeoutMs} ms: ${seen.slice(-500)}`)), timeoutMs);
    const onData = (d: Buffer) => {
      seen = (seen + d.toString()).slice(-4000);
      if (pattern.test(seen)) {
        clearTimeout(timer);
        proc.stdout?.off('data', onData);
        proc.stderr?.off('data', onData);
        resolve();
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code ?? signal}) while starting: ${seen.slice(-500)}`));
    });
  });
}

const exited = (proc: ChildProcess) => (proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => proc.once('exit', () => r())));

export interface OwnServer {
  readonly port: number;
  readonly url: string;
  /** Stops the server: 'kill' is SIGKILL (a crash), 'stop' a clean shutdown. */
  stop(how: 'kill' | 'stop'): Promise<void>;
  start(): Promise<void>;
  /** Stops it for good and removes its directory. */
  destroy(): Promise<void>;
  readonly running: boolean;
}

/**
 * A redis-server with an append-only file, fsynced every second: what a production Redis
 * under the inbound queue and BullMQ needs, so that a restart (or a crash of the process)
 * keeps every write it acknowledged. A Redis with `--appendonly no --save ""` (this machine's
 * shared one) starts empty after a restart: recorded updates and queued jobs would be gone.
 */
export async function startOwnRedis(port: number, options: { appendfsync?: 'always' | 'everysec' } = {}): Promise<OwnServer> {
  const dir = mkdtempSync(join(tmpdir(), 'kabinet-drill-redis-'));
  let proc: ChildProcess | undefined;
  const start = async () => {
    const p = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', options.appendfsync ?? 'everysec', '--maxmemory-policy', 'noeviction'], { stdio: ['ignore', 'pipe', 'pipe'] });
    p.once('exit', own(() => p.kill('SIGKILL')));
    proc = p;
    await waitForLine(proc, /Ready to accept connections/, `redis-server on :${port}`);
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return !!proc && proc.exitCode === null && proc.signalCode === null;
    },
    async stop(how) {
      if (!proc) return;
      const p = proc;
      p.kill(how === 'kill' ? 'SIGKILL' : 'SIGTERM');
      await exited(p);
    },
    start,
    async destroy() {
      if (proc) {
        proc.kill('SIGKILL');
        await exited(proc);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A PostgreSQL cluster of its own (initdb into a temporary directory, trust auth on
 * loopback). PostgreSQL refuses to run as root, so as root the cluster belongs to the
 * `postgres` user and is run through runuser. 'kill' is an immediate shutdown (SIGQUIT: no
 * checkpoint, crash recovery on the next start, as after a crash); 'stop' a fast shutdown.
 */
export async function startOwnPostgres(port: number): Promise<OwnServer> {
  const dir = mkdtempSync(join(tmpdir(), 'kabinet-drill-pg-'));
  const data = join(dir, 'data');
  const asRoot = userInfo().uid === 0;
  const pgUser = process.env.DRILL_PG_OS_USER ?? 'postgres';
  const run = (cmd: string, args: string[]) => (asRoot ? spawn('runuser', ['-u', pgUser, '--', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  if (asRoot) {
    const ids = spawnSync('id', ['-u', pgUser], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', pgUser], { encoding: 'utf8' });
    if (ids.status !== 0) throw new Error(`running as root, and there is no "${pgUser}" user to run PostgreSQL as (DRILL_PG_OS_USER)`);
    chownSync(dir, Number(ids.stdout.trim()), Number(gid.stdout.trim()));
  }
  const init = run(join(PG_BIN, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale', 'C']);
  let initOut = '';
  init.stdout?.on('data', (d: Buffer) => (initOut += d.toString()));
  init.stderr?.on('data', (d: Buffer) => (initOut += d.toString()));
  const code = await new Promise<number | null>((r) => init.once('exit', (c) => r(c)));
  if (code !== 0) throw new Error(`initdb failed (${code}): ${initOut.slice(-800)}`);
  let proc: ChildProcess | undefined;
  const start = async () => {
    // fsync off: the drill's cluster is thrown away; the restart is what is tested, not the disk.
    const p = run(join(PG_BIN, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=100', '-c', 'logging_collector=off']);
    p.once('exit', own(() => signalPostmaster(p, 'SIGQUIT')));
    proc = p;
    await waitForLine(proc, /database system is ready to accept connections/, `postgres on :${port}`);
  };
  await start();
  return {
    port,
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    get running() {
      return !!proc && proc.exitCode === null && proc.signalCode === null;
    },
    async stop(how) {
      if (!proc) return;
      const p = proc;
      // As root, `proc` is runuser; the postmaster is its child: signal it through pkill's
      // exact parent match, never by name.
      signalPostmaster(p, how === 'kill' ? 'SIGQUIT' : 'SIGINT');
      await exited(p);
    },
    start,
    async destroy() {
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        signalPostmaster(proc, 'SIGQUIT');
        await exited(proc);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function signalPostmaster(proc: ChildProcess, signal: NodeJS.Signals): void {
  if (userInfo().uid !== 0) {
    proc.kill(signal);
    return;
  }
  // runuser forwards SIGTERM/SIGINT/SIGQUIT to its child, but not reliably every signal on
  // every version: signal the postmaster itself (runuser's only child).
  const children = spawnSync('ps', ['-o', 'pid=', '--ppid', String(proc.pid)], { encoding: 'utf8' }).stdout.trim().split(/\s+/).filter(Boolean);
  if (children.length === 0) proc.kill(signal);
  for (const pid of children) process.kill(Number(pid), signal);
}
