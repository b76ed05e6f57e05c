/**
 * Sends one hostile request over a fresh connection with node:http (no client-side
 * normalisation beyond what HTTP/1.1 itself needs) and says what came back: a status, or why
 * none came (we hung up on purpose, the server reset the connection, nothing within the time).
 */
import { request as httpRequest } from 'node:http';
import type { HostileRequest } from './hostile-cases.js';

export type Outcome =
  | { kind: 'status'; status: number; body: string }
  /** A truncated request: we hung up mid-body, no answer is possible. */
  | { kind: 'hung-up' }
  | { kind: 'no-answer'; reason: string };

export function send(origin: URL, req: HostileRequest, timeoutMs = 15_000): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (o: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(o);
    };
    const headers: Record<string, string> = { ...req.headers };
    const body = req.body;
    if (body && req.mode === 'normal' && headers['content-length'] === undefined) headers['content-length'] = String(body.length);
    if (body && req.mode === 'truncate') headers['content-length'] = String(body.length * 2 + 10);
    if (req.mode === 'chunked' || req.mode === 'chunked-truncate') headers['transfer-encoding'] = 'chunked';
    let r: ReturnType<typeof httpRequest>;
    try {
      r = httpRequest({ host: origin.hostname, port: origin.port, method: req.method, path: req.path, headers, agent: false, setHost: true });
    } catch (err) {
      // The client itself refused to send it (an invalid header or path): not Kabinet's answer.
      resolve({ kind: 'no-answer', reason: `client refused: ${(err as { code?: string }).code ?? (err as Error).message}` });
      return;
    }
    const timer = setTimeout(() => {
      r.destroy();
      done({ kind: 'no-answer', reason: 'timeout' });
    }, timeoutMs);
    r.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < 4096) chunks.push(c);
        size += c.length;
      });
      const finish = () => done({ kind: 'status', status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8').slice(0, 4096) });
      res.on('end', finish);
      res.on('error', finish);
      res.on('aborted', finish);
    });
    r.on('error', (err: NodeJS.ErrnoException) => {
      if (req.mode === 'truncate' || req.mode === 'chunked-truncate') return done({ kind: 'hung-up' });
      done({ kind: 'no-answer', reason: err.code ?? err.message });
    });
    if (!body) {
      r.end();
      return;
    }
    if (req.mode === 'truncate' || req.mode === 'chunked-truncate') {
      // Less than was declared (or no terminating chunk), then hang up.
      r.write(body, () => setTimeout(() => {
        r.destroy();
        done({ kind: 'hung-up' });
      }, 30));
      return;
    }
    if (req.mode === 'chunked') {
      // An oversized chunked body in 64 KiB chunks, stopping when the server has answered.
      let offset = 0;
      const pump = () => {
        while (offset < body.length && !settled) {
          const chunk = body.subarray(offset, offset + 64 * 1024);
          offset += chunk.length;
          if (!r.write(chunk)) return void r.once('drain', pump);
        }
        if (!settled) r.end();
      };
      pump();
      return;
    }
    r.end(body);
  });
}
