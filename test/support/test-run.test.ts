import { describe, expect, it } from 'vitest';
import { leftoverDatabases, machineTag, newRunId, runIdOf } from './test-run.js';

describe('test run ids and leftover databases', () => {
  const here = machineTag('this-host');
  const other = machineTag('other-host');
  const deadPid = 4242;
  const livePid = 777;
  const alive = (pid: number) => pid === livePid;

  it('names carry the machine, the pid and a random part, and fit PostgreSQL names', () => {
    const id = newRunId(123, 'this-host');
    expect(id).toMatch(new RegExp(`^${here}_123_[0-9a-f]{8}$`));
    expect(newRunId(123, 'this-host')).not.toBe(id);
    const fileDb = `kabinet_t_${id}_4194304_0123abcd`;
    expect(fileDb.length).toBeLessThanOrEqual(63);
    expect(runIdOf(fileDb)).toEqual({ runId: id, machine: here, pid: 123 });
    expect(runIdOf(`kabinet_tpl_${id}`)?.runId).toBe(id);
  });

  it("drops only dead runs of this machine, never another machine's, a live run's or a foreign name", () => {
    const dead = `${here}_${deadPid}_aaaaaaaa`;
    const deadButSessionLive = `${here}_${deadPid}_bbbbbbbb`;
    const live = `${here}_${livePid}_cccccccc`;
    const current = `${here}_${deadPid}_dddddddd`;
    const otherMachine = `${other}_${deadPid}_eeeeeeee`;
    const names = [
      `kabinet_t_${dead}_1_00000000`, `kabinet_tpl_${dead}`,
      `kabinet_t_${deadButSessionLive}_1_00000000`,
      `kabinet_t_${live}_1_00000000`,
      `kabinet_t_${current}_1_00000000`, `kabinet_tpl_${current}`,
      `kabinet_t_${otherMachine}_1_00000000`, `kabinet_tpl_${otherMachine}`,
      // The old naming (pid only) and unrelated databases.
      `kabinet_t_${deadPid}_1_00000000`, `kabinet_tpl_${deadPid}`, 'kabinet', 'kabinet_t_', 'postgres',
    ];
    const dropped = leftoverDatabases(names, { machine: here, runId: current, alive, liveRuns: new Set([deadButSessionLive]) });
    expect(dropped).toEqual([`kabinet_t_${dead}_1_00000000`, `kabinet_tpl_${dead}`]);
  });
});
