/**
 * A CPU budget for a group of bench child processes, as a container's CPU limit gives one
 * (Kubernetes' `cpu: 500m`, Docker's `--cpus 0.5`): a Linux cgroup with a CFS quota of
 * `cores` × the period. Processes started into it (`startRole(role, env, cpus, group)`) and their
 * children share that budget; the kernel throttles them beyond it. Works with cgroup v2
 * (`cpu.max`) and with v1's cpu controller (`cpu.cfs_quota_us`); needs the right to create a
 * cgroup (root on this machine). Used by bench:scale's BENCH_SCALE_CPU_QUOTA.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const PERIOD_US = 100_000;

export interface CpuGroup {
  /** The cgroup's directory: a process joins by writing its pid to `<dir>/cgroup.procs`. */
  readonly dir: string;
  readonly cores: number;
  /** The kernel's count so far: periods with the group runnable, periods it hit the quota, and the time it waited (s). */
  throttling(): { periods: number; throttled: number; waitedSeconds: number };
  /** Removes the cgroup (its processes must have exited; retried for a moment while they do). */
  remove(): Promise<void>;
}

/** Where a cpu controller can be written: v2's unified hierarchy, or v1's cpu mount. */
function cpuRoot(): { root: string; v2: boolean } {
  const v2 = '/sys/fs/cgroup';
  if (existsSync(join(v2, 'cgroup.controllers')) && readFileSync(join(v2, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('cpu')) return { root: v2, v2: true };
  for (const v1 of ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct']) if (existsSync(join(v1, 'cpu.cfs_quota_us'))) return { root: v1, v2: false };
  throw new Error('no cgroup cpu controller found (/sys/fs/cgroup): a CPU quota needs one');
}

export function createCpuGroup(name: string, cores: number): CpuGroup {
  if (!(cores > 0)) throw new Error('a CPU group needs a positive number of cores');
  const { root, v2 } = cpuRoot();
  const dir = join(root, name);
  try {
    if (v2) {
      // Children of the root get the cpu controller only when the root hands it down.
      const control = join(root, 'cgroup.subtree_control');
      if (!readFileSync(control, 'utf8').split(/\s+/).includes('cpu')) writeFileSync(control, '+cpu');
    }
    mkdirSync(dir, { recursive: true });
    const quota = Math.max(1000, Math.round(cores * PERIOD_US));
    if (v2) writeFileSync(join(dir, 'cpu.max'), `${quota} ${PERIOD_US}`);
    else {
      writeFileSync(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
      writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quota));
    }
  } catch (err) {
    throw new Error(`could not set up the cgroup ${dir} with ${cores} cores (a CPU quota needs root and a writable cgroup cpu controller): ${(err as Error).message}`);
  }
  return {
    dir,
    cores,
    throttling() {
      const stat = Object.fromEntries(
        readFileSync(join(dir, 'cpu.stat'), 'utf8')
          .trim()
          .split('\n')
          .map((line) => line.split(' ') as [string, string]),
      );
      // v2 counts in µs (throttled_usec), v1 in ns (throttled_time).
      const waited = v2 ? Number(stat.throttled_usec ?? 0) / 1e6 : Number(stat.throttled_time ?? 0) / 1e9;
      return { periods: Number(stat.nr_periods ?? 0), throttled: Number(stat.nr_throttled ?? 0), waitedSeconds: waited };
    },
    async remove() {
      for (let i = 0; ; i++) {
        try {
          rmdirSync(dir);
          return;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
          if (i >= 50) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
  };
}
