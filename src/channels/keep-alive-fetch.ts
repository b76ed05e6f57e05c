/**
 * The customer bot's HTTP client for the Bot API: a `fetch` that sends JSON calls (a string
 * body, which is every call but a file upload) over node:http/https with a keep-alive agent
 * per origin, and hands anything else to the global fetch.
 *
 * Why not the global fetch: Node 20's fetch (undici's WHATWG layer) spends about three times
 * the CPU of a plain request on each call (measured on the 2-core machine: ~340 µs against
 * ~100 µs per sendMessage to a loopback server), and the bot makes one or two calls per
 * update; grammY's own default (node-fetch on the same agent) is in between.
 *
 * It behaves as fetch does where the callers look (grammY's client, the retry policy in
 * api-retry.ts): it resolves with a Response for every HTTP answer, 4xx and 5xx included (a
 * buffered one: status, ok, headers, json/text/arrayBuffer/blob once, clone; `body` is null, as
 * no caller streams a Bot API answer; building undici's Response and reading it through a web
 * stream cost ~10% of the bot process's CPU under load);
 * a failure to connect or a connection lost before the answer rejects with a TypeError
 * ("fetch failed", the cause attached), as undici's fetch does; an aborted signal rejects with
 * its reason (grammY's timeout). Idle sockets are closed after `idleMs` (and before the
 * server's own Keep-Alive timeout, which Node's agent honours), so a socket the server is
 * about to close is not reused.
 */
import http from 'node:http';
import https from 'node:https';

export interface KeepAliveFetchOptions {
  /** Used for calls this client does not handle (multipart uploads, streams). Default: global fetch. */
  fallback?: typeof fetch;
  /**
   * Sockets per origin, opened as needed (Telegram's webhook side allows 100 connections; this is
   * the other way). Calls beyond it wait for a free socket. Default 1024: the callers' own limits
   * (a worker's INBOUND_CONCURRENCY chats, one call at a time each; the send queues' rate) bound
   * the calls in flight, not this (64 capped a worker at 64 calls per round trip).
   */
  maxSockets?: number;
  /**
   * How long an idle socket is kept. Default 30 s: a bot's traffic comes in bursts, and a new
   * connection to api.telegram.org costs a TLS handshake (round trips the customer waits for);
   * well under the minutes after which middleboxes drop idle connections (a socket reused after
   * that is reset, and the retry policy makes the call again).
   */
  idleMs?: number;
  /**
   * A call whose socket stays silent this long (no answer, or an answer that stops halfway)
   * fails as a lost connection would (TypeError "fetch failed", the cause says the time), as
   * undici's fetch does after its headersTimeout / bodyTimeout (300 s each). Default 300 s. The
   * calls grammY makes through its own client are limited by grammY's timer as well; the plain
   * JSON calls (telegram/json-calls.ts) by this alone.
   */
  requestTimeoutMs?: number;
}

const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

function headerRecord(headers: RequestInit['headers']): Record<string, string> {
  if (!headers) return {};
  if (headers instanceof Headers || Array.isArray(headers)) return Object.fromEntries(new Headers(headers));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = String(v);
  return out;
}

/** A fetch Response over a body already read whole. */
class BufferedResponse {
  readonly type = 'basic';
  readonly redirected = false;
  readonly body = null;
  #used = false;
  #headers: Headers | undefined;
  constructor(
    readonly url: string,
    readonly status: number,
    readonly statusText: string,
    private readonly raw: readonly string[],
    private readonly content: Buffer | null,
  ) {}
  get ok(): boolean {
    return this.status >= 200 && this.status <= 299;
  }
  get bodyUsed(): boolean {
    return this.#used;
  }
  get headers(): Headers {
    if (!this.#headers) {
      this.#headers = new Headers();
      for (let i = 0; i + 1 < this.raw.length; i += 2) this.#headers.append(this.raw[i]!, this.raw[i + 1]!);
    }
    return this.#headers;
  }
  #take(): Buffer {
    if (this.#used) throw new TypeError('Body is unusable: Body has already been read');
    this.#used = true;
    return this.content ?? Buffer.alloc(0);
  }
  async text(): Promise<string> {
    return this.#take().toString('utf8');
  }
  async json(): Promise<unknown> {
    return JSON.parse(this.#take().toString('utf8'));
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = this.#take();
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }
  async bytes(): Promise<Uint8Array> {
    return new Uint8Array(this.#take());
  }
  async blob(): Promise<Blob> {
    return new Blob([this.#take()], { type: this.headers.get('content-type') ?? '' });
  }
  clone(): BufferedResponse {
    if (this.#used) throw new TypeError('Response.clone: Body has already been consumed.');
    return new BufferedResponse(this.url, this.status, this.statusText, this.raw, this.content);
  }
}

const abortReason = (signal: AbortSignal) => signal.reason ?? new DOMException('This operation was aborted', 'AbortError');

export function createKeepAliveFetch(options: KeepAliveFetchOptions = {}): typeof fetch {
  const fallback = options.fallback ?? fetch;
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 1024, timeout: options.idleMs ?? 30_000 };
  const requestTimeoutMs = options.requestTimeoutMs ?? 300_000;
  const agents = new Map<string, http.Agent>();
  const agentFor = (url: URL) => {
    let agent = agents.get(url.origin);
    if (!agent) {
      agent = url.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
      agents.set(url.origin, agent);
    }
    return agent;
  };

  return ((input: string | URL | Request, init?: RequestInit) => {
    const body = init?.body;
    if (typeof body !== 'string' || !(typeof input === 'string' || input instanceof URL)) return fallback(input, init);
    const url = typeof input === 'string' ? new URL(input) : input;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return fallback(input, init);
    const signal = init?.signal ?? undefined;
    return new Promise<Response>((resolve, reject) => {
      if (signal?.aborted) return reject(abortReason(signal));
      const headers = { ...headerRecord(init?.headers), 'content-length': String(Buffer.byteLength(body)) };
      const request = (url.protocol === 'https:' ? https : http).request(url, { method: init?.method ?? 'POST', headers, agent: agentFor(url), ...(signal ? { signal } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (err) => reject(signal?.aborted ? abortReason(signal) : new TypeError('fetch failed', { cause: err })));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          // A status fetch cannot represent (outside 200–599): a broken server, as undici says.
          if (status < 200 || status > 599) return reject(new TypeError('fetch failed', { cause: new RangeError(`HTTP status ${status}`) }));
          const bytes = NULL_BODY_STATUS.has(status) ? null : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
          resolve(new BufferedResponse(url.href, status, res.statusMessage ?? '', res.rawHeaders, bytes) as unknown as Response);
        });
      });
      request.on('error', (err) => reject(signal?.aborted ? abortReason(signal) : new TypeError('fetch failed', { cause: err })));
      // Armed on the socket while this call holds it (Node resets it to the agent's idle timeout
      // when the socket goes back to the pool).
      request.setTimeout(requestTimeoutMs, () => request.destroy(new Error(`no answer within ${requestTimeoutMs} ms`)));
      request.end(body);
    });
  }) as typeof fetch;
}
