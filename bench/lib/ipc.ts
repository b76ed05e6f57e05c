import type { ChildProcess } from 'node:child_process';

/** The child's next IPC message of `type`; rejects if the child exits first (`label` names it). */
export function nextMessage<T>(child: ChildProcess, type: string, label: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onMessage = (m: { type: string }) => {
      if (m.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m as T);
    };
    const onExit = (code: number | null, signal: string | null) => reject(new Error(`${label} exited (${code ?? signal}) before "${type}"`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}
