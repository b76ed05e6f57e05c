/**
 * JSON POSTs over keep-alive connections, for the bench's own load: the fakes' poster
 * (src/fakes/http-post.ts, node:http), cheaper per request than the global fetch (undici), whose
 * CPU in the bench process would otherwise be counted in the latencies it measures (the bench
 * process also runs the fakes).
 */
import { createHttpPoster } from '../../src/fakes/http-post.js';

export interface Answer {
  status: number;
  body: string;
}

/** Longer than any bench's watchdog: a request is never given up before the bench is. */
const NO_TIMEOUT_MS = 15 * 60_000;

export function keepAliveClient(origin: string, sockets: number) {
  const poster = createHttpPoster(sockets);
  return {
    /** `headers` gets the exact body sent (for signatures). */
    async post(path: string, payload: unknown, headers: (body: string) => Record<string, string> = () => ({})): Promise<Answer> {
      const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
      const answer = await poster.post(`${origin}${path}`, body, { headers: { 'content-type': 'application/json', ...headers(body) }, timeoutMs: NO_TIMEOUT_MS });
      return { status: answer.status, body: answer.text };
    },
    close: () => poster.close(),
  };
}
