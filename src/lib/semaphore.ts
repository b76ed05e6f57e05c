/** At most `size` holders at once; the others wait in arrival order. */
export interface Semaphore {
  /** Runs fn once a place is free, and frees it when fn settles. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** Holders now, and callers waiting for a place. */
  readonly active: number;
  readonly waiting: number;
}

export function createSemaphore(size: number): Semaphore {
  const limit = Math.max(1, Math.floor(size));
  let active = 0;
  const queue: Array<() => void> = [];
  const release = () => {
    const next = queue.shift();
    if (next) next();
    else active -= 1;
  };
  return {
    async run(fn) {
      if (active < limit) active += 1;
      else await new Promise<void>((resolve) => queue.push(resolve)); // the place is handed over as is
      try {
        return await fn();
      } finally {
        release();
      }
    },
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
  };
}
