/**
 * For kill -9 drills: a proxy in front of a fake platform that forwards everything, except that
 * the first request matching `hold` reaches the platform (the platform has it) but its answer
 * is never returned. So a process killed after `held` resolved is killed in the middle of that
 * send every time, not by luck. Bodies are read as text (JSON and form-encoded calls). And the
 * worker process itself: forked with tsx, killed with SIGKILL once the proxy holds its send.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HoldingProxy {
  /** The proxy's origin (http://127.0.0.1:<port>); paths are forwarded unchanged. */
  root: string;
  /** Resolves once the held request has been answered by the platform (and swallowed). */
  held: Promise<void>;
  close(): Promise<void>;
}

export async function holdingProxy(upstream: string, hold: (path: string, body: string) => boolean): Promise<HoldingProxy> {
  let heldResolve!: () => void;
  const held = new Promise<void>((r) => (heldResolve = r));
  let holding = true;
  const proxy: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      const upstreamRes = await fetch(`${upstream}${req.url}`, { method: req.method, headers: { 'content-type': req.headers['content-type'] ?? 'application/json' }, body: body || undefined });
      const text = await upstreamRes.text();
      if (holding && hold(req.url ?? '', body)) {
        holding = false;
        heldResolve();
        return;
      }
      res.writeHead(upstreamRes.status, { 'content-type': 'application/json' }).end(text);
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  return {
    root: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    held,
    async close() {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
    },
  };
}

/** A worker script run in a child process; `killWhenHeld` kills it with SIGKILL mid-send. */
export function killDrill(script: string, baseEnv: () => Record<string, string>) {
  let child: ChildProcess | undefined;
  return {
    /** Starts the child with `env`, waits until the proxy holds its send, kills it, waits for the exit. */
    async killWhenHeld(env: Record<string, string>, held: Promise<void>): Promise<void> {
      child = fork(script, [], { execArgv: ['--import', 'tsx'], env: { ...process.env, ...baseEnv(), LOG_LEVEL: 'silent', ...env }, stdio: 'ignore' });
      await held;
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      child = undefined;
    },
    /** For afterAll: a child left running by a failed test. */
    cleanup(): void {
      child?.kill('SIGKILL');
      child = undefined;
    },
  };
}
