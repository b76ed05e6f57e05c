/**
 * Names of the databases a test run creates, and which leftovers a run may remove.
 *
 * Several runs share one PostgreSQL: other worktrees on this machine at the same time, and
 * possibly other machines. A name carries this machine's tag, the run's pid and a random
 * part: `kabinet_t_<host>_<pid>_<rand>_...` (test files) and `kabinet_tpl_<host>_<pid>_<rand>`
 * (the run's template). A run removes only its own databases, and leftovers of runs of THIS
 * machine that are dead: their pid is gone here and PostgreSQL has no session of that run
 * (each run keeps one open, named after its run id, for as long as it lives). Anything
 * else — another machine's tag, an old or foreign naming — is never touched.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** application_name of the session a run holds open while it lives. */
export const RUN_SESSION_PREFIX = 'kabinet-test-run:';

/**
 * 8 characters naming this machine: "h" and 7 hex. The letter first keeps the older cleanup
 * (`kabinet_t_<digits>` = a pid) of runs still on the previous code away from these names.
 */
export function machineTag(host = hostname()): string {
  return `h${createHash('sha256').update(host).digest('hex').slice(0, 7)}`;
}

export function newRunId(pid = process.pid, host = hostname()): string {
  return `${machineTag(host)}_${pid}_${randomBytes(4).toString('hex')}`;
}

const NAME = /^kabinet_(?:t|tpl)_(h[0-9a-f]{7})_(\d+)_([0-9a-f]{8})(?:_|$)/;

/** The run id inside a test database's name, or undefined when the name is not ours. */
export function runIdOf(datname: string): { runId: string; machine: string; pid: number } | undefined {
  const m = NAME.exec(datname);
  if (!m) return undefined;
  return { runId: `${m[1]}_${m[2]}_${m[3]}`, machine: m[1]!, pid: Number(m[2]) };
}

export interface LeftoverCheck {
  /** This machine's tag. */
  machine: string;
  /** The current run (never a leftover). */
  runId: string;
  /** Is a process with this pid alive on this machine? */
  alive(pid: number): boolean;
  /** Run ids that have a live PostgreSQL session right now. */
  liveRuns: ReadonlySet<string>;
}

/** The databases among `names` that a dead run of this machine left behind. */
export function leftoverDatabases(names: readonly string[], check: LeftoverCheck): string[] {
  return names.filter((name) => {
    const parsed = runIdOf(name);
    if (!parsed || parsed.machine !== check.machine || parsed.runId === check.runId) return false;
    return !check.alive(parsed.pid) && !check.liveRuns.has(parsed.runId);
  });
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
