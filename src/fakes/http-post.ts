/**
 * The fakes' outgoing POSTs (Telegram's webhook deliveries, VK's Callback API events) over
 * node:http/https with a keep-alive agent per origin, as the real platforms keep their
 * connections to a webhook open.
 *
 * Not the global fetch: the fakes run inside the benches' own process, and undici's fetch
 * (its WHATWG streams, a Response per call, an AbortSignal.timeout per call) made a third of
 * that process's CPU at a thousand deliveries a second, its garbage collection included: a
 * delay of the harness that landed in every latency it measured, for both bots alike.
 */
import http from 'node:http';
import https from 'node:https';

export interface PostAnswer {
  status: number;
  statusText: string;
  text: string;
}

export interface PostOptions {
  headers: Record<string, string>;
  /** The answer must be read whole within this long; else rejects with an error named TimeoutError. */
  timeoutMs: number;
  /** Aborting rejects with an error named AbortError (a fake that closes mid-delivery). */
  signal?: AbortSignal;
}

export interface HttpPoster {
  post(url: string, body: string, options: PostOptions): Promise<PostAnswer>;
  /** Closes the kept connections. */
  close(): void;
}

const named = (name: string, message: string) => Object.assign(new Error(message), { name });

export function createHttpPoster(maxSocketsPerOrigin = 100): HttpPoster {
  const agents = new Map<string, http.Agent>();
  const agentFor = (url: URL) => {
    let agent = agents.get(url.origin);
    if (!agent) {
      // Idle sockets go after 4 s, before the usual server keep-alive timeouts (5 s in Node).
      const options = { keepAlive: true, maxSockets: maxSocketsPerOrigin, timeout: 4_000 };
      agent = url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
      agents.set(url.origin, agent);
    }
    return agent;
  };
  return {
    post(target, body, { headers, timeoutMs, signal }) {
      return new Promise<PostAnswer>((resolve, reject) => {
        let url: URL;
        try {
          url = new URL(target);
        } catch {
          return reject(named('TypeError', `invalid URL: ${target}`));
        }
        if (url.protocol !== 'http:' && url.protocol !== 'https:') return reject(named('TypeError', `unsupported protocol ${url.protocol}`));
        if (signal?.aborted) return reject(named('AbortError', 'This operation was aborted'));
        let settled = false;
        const finish = (error: Error | undefined, answer?: PostAnswer) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          if (error) reject(error);
          else resolve(answer!);
        };
        const request = (url.protocol === 'https:' ? https : http).request(
          url,
          { method: 'POST', agent: agentFor(url), headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('error', (err) => finish(err));
            res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', text: Buffer.concat(chunks).toString('utf8') }));
          },
        );
        const fail = (error: Error) => {
          finish(error);
          request.destroy();
        };
        const timer = setTimeout(() => fail(named('TimeoutError', `no answer within ${timeoutMs} ms`)), timeoutMs);
        const onAbort = () => fail(named('AbortError', 'This operation was aborted'));
        signal?.addEventListener('abort', onAbort, { once: true });
        request.on('error', (err) => finish(err));
        request.end(body);
      });
    },
    close() {
      for (const agent of agents.values()) agent.destroy();
      agents.clear();
    },
  };
}
