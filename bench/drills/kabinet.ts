/**
 * Kabinet as production runs it: `src/main.ts web` and `src/main.ts worker` as child
 * processes (NODE_ENV=production), each watched for an exit the drill did not ask for, and
 * their JSON log lines counted by level (warnings and errors are expected while a
 * dependency is down; an exit is not).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { own } from './children.js';

export type Role = 'web' | 'worker';

export interface LogTally {
  warn: number;
  error: number;
  fatal: number;
  /** Distinct messages at error level or above, with counts. */
  errors: Map<string, number>;
  /** Lines that are not pino JSON (stack traces of a crash, Node's own warnings). */
  other: string[];
}

export interface KabinetProcess {
  readonly name: string;
  readonly role: Role;
  readonly port: number | undefined;
  readonly pid: number;
  /** Exits the drill did not cause: code or signal, with the last lines it wrote. */
  readonly unexpectedExits: string[];
  readonly log: LogTally;
  readonly alive: boolean;
  /** kill -9, as a crashing machine or an OOM killer does. */
  kill9(): Promise<void>;
  /** SIGTERM and wait (graceful stop), at the end of the drill. */
  stop(): Promise<void>;
}

const ROOT = new URL('../../', import.meta.url).pathname;

export function tally(): LogTally {
  return { warn: 0, error: 0, fatal: 0, errors: new Map(), other: [] };
}

export async function startKabinet(name: string, role: Role, env: Record<string, string>, log: LogTally = tally()): Promise<KabinetProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', role], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const disown = own(() => child.kill('SIGKILL'));
  child.once('exit', disown);
  const unexpectedExits: string[] = [];
  const tail: string[] = [];
  let expected = false;
  let workerReady: () => void = () => undefined;
  const workerStarted = new Promise<void>((r) => (workerReady = r));
  const onLine = (line: string) => {
    if (line.includes('"worker started"')) workerReady();
    tail.push(line);
    if (tail.length > 20) tail.shift();
    if (!line.startsWith('{')) {
      if (line.trim() && log.other.length < 50) log.other.push(`${name}: ${line.slice(0, 300)}`);
      return;
    }
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      const level = entry.level ?? 30;
      if (level >= 60) log.fatal += 1;
      else if (level >= 50) log.error += 1;
      else if (level >= 40) log.warn += 1;
      if (level >= 50) {
        const key = `${name}: ${entry.msg ?? ''}${entry.err?.message ? ` (${entry.err.message.slice(0, 120)})` : ''}`;
        log.errors.set(key, (log.errors.get(key) ?? 0) + 1);
      }
    } catch {
      if (log.other.length < 50) log.other.push(`${name}: ${line.slice(0, 300)}`);
    }
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      if (!expected) unexpectedExits.push(`${name} exited (${code ?? signal}): ${tail.slice(-8).join(' | ').slice(0, 1500)}`);
      resolve();
    }),
  );
  const port = env.PORT ? Number(env.PORT) : undefined;
  const proc: KabinetProcess = {
    name,
    role,
    port,
    pid: child.pid!,
    unexpectedExits,
    log,
    get alive() {
      return child.exitCode === null && child.signalCode === null;
    },
    async kill9() {
      expected = true;
      child.kill('SIGKILL');
      await exit;
    },
    async stop() {
      if (!proc.alive) return;
      expected = true;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 35_000);
      await exit;
      clearTimeout(timer);
    },
  };
  // Ready: the web role answers /health; the worker logs "worker started".
  const started = Date.now();
  if (role === 'web') {
    while (true) {
      if (!proc.alive) throw new Error(`${name} exited while starting: ${unexpectedExits.join('; ')}`);
      const answer = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(3_000) }).then(async (r) => `${r.status} ${await r.text()}`, (e: Error) => e.message);
      if (answer.startsWith('200 ')) break;
      if (Date.now() - started > 60_000) throw new Error(`${name} did not answer /health within 60 s (last: ${answer.slice(0, 300)})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } else {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      workerStarted,
      exit.then(() => { throw new Error(`${name} exited while starting: ${tail.join(' | ').slice(-800)}`); }),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${name} did not start within 60 s: ${tail.join(' | ').slice(-800)}`)), 60_000))),
    ]);
    clearTimeout(timer);
  }
  return proc;
}
