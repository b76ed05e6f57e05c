/**
 * Every process a drill starts, so that none outlives the drill: on exit (normal, a failed
 * check or the watchdog) each is killed synchronously.
 */
const killers = new Set<() => void>();

/** Registers a synchronous killer; returns its removal. */
export function own(kill: () => void): () => void {
  killers.add(kill);
  return () => killers.delete(kill);
}

process.on('exit', () => {
  for (const kill of killers) {
    try {
      kill();
    } catch {
      // Already gone.
    }
  }
});
