import { describe, expect, it } from 'vitest';
import { createSemaphore } from '../../src/lib/semaphore.js';

const deferred = () => {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};
const tick = () => new Promise((r) => setImmediate(r));

describe('createSemaphore', () => {
  it('runs at most `size` at once, the rest in arrival order as places free up', async () => {
    const sem = createSemaphore(2);
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    const runs = gates.map((g, i) => sem.run(async () => {
      started.push(i);
      await g.promise;
      return i;
    }));
    await tick();
    expect(started).toEqual([0, 1]);
    expect([sem.active, sem.waiting]).toEqual([2, 2]);
    gates[1]!.resolve();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    gates[0]!.resolve();
    await tick();
    expect(started).toEqual([0, 1, 2, 3]);
    gates[2]!.resolve();
    gates[3]!.resolve();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
    expect([sem.active, sem.waiting]).toEqual([0, 0]);
  });

  it('frees the place when the holder throws, and passes the error on', async () => {
    const sem = createSemaphore(1);
    const failing = sem.run(async () => {
      throw new Error('boom');
    });
    const next = sem.run(async () => 'next');
    await expect(failing).rejects.toThrow('boom');
    await expect(next).resolves.toBe('next');
    expect(sem.active).toBe(0);
  });

  it('treats a size below one as one', async () => {
    const sem = createSemaphore(0);
    const gate = deferred();
    const first = sem.run(() => gate.promise);
    let second = false;
    const other = sem.run(async () => {
      second = true;
    });
    await tick();
    expect(second).toBe(false);
    gate.resolve();
    await Promise.all([first, other]);
    expect(second).toBe(true);
  });
});
