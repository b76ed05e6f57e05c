/**
 * The customer bot's HTTP client for the Bot API: a `fetch` that sends JSON calls (a string
 * body, which is every call but a file upload) with undici's `request` over a keep-alive
 * connection pool per origin, and hands anything else to the global fetch.
 *
 * Why not the global fetch: Node 20's fetch (undici's WHATWG layer) spends about three times
 * the CPU of a plain request on each call (measured on the 2-core machine: ~340 µs against
 * ~100 µs per sendMessage to a loopback server), and the bot makes one or two calls per
 * update; grammY's own default (node-fetch on the same agent) is in between. Why undici's
 * `request` and not node:http (this client until the eighth session of 2026-12-07): the same
 * call costs about 40 µs of CPU there against about 62 µs through http.request and its agent
 * (bench/README.md).
 *
 * It behaves as fetch does where the callers look (grammY's client, the retry policy in
 * api-retry.ts): it resolves with a Response for every HTTP answer, 4xx and 5xx included (a
 * buffered one: status, ok, headers, json/text/arrayBuffer/blob once, clone; `body` is null, as
 * no caller streams a Bot API answer; building undici's Response and reading it through a web
 * stream cost ~10% of the bot process's CPU under load; `statusText` is the status's standard
 * reason phrase); a failure to connect, a connection lost before the answer or a call past its
 * time limit rejects with a TypeError ("fetch failed", the cause attached), as undici's fetch
 * does; an aborted signal rejects with its reason (grammY's timeout). Idle connections are
 * closed after `idleMs`, or a second before the server's own Keep-Alive timeout when that is
 * shorter, so a connection the server is about to close is not reused.
 */
import { STATUS_CODES } from 'node:http';
import { Agent } from 'undici';

export interface KeepAliveFetchOptions {
  /** Used for calls this client does not handle (multipart uploads, streams). Default: global fetch. */
  fallback?: typeof fetch;
  /**
   * Sockets per origin, opened as needed (Telegram's webhook side allows 100 connections; this is
   * the other way). Calls beyond it wait for a free connection. Default 1024: the callers' own limits
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
   * A call whose connection stays silent this long (no answer, or an answer that stops halfway)
   * fails as a lost connection would (TypeError "fetch failed", the cause undici's
   * HeadersTimeoutError or BodyTimeoutError), as undici's fetch does after its headersTimeout /
   * bodyTimeout (300 s each). Default 300 s. The
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
    private readonly raw: Record<string, string | string[] | undefined>,
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
      for (const [name, value] of Object.entries(this.raw)) {
        if (Array.isArray(value)) for (const v of value) this.#headers.append(name, v);
        else if (value !== undefined) this.#headers.append(name, value);
      }
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
  const idleMs = options.idleMs ?? 30_000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 300_000;
  // One pool per origin inside (connections each); no pipelining: one call per connection at a time.
  const agent = new Agent({
    connections: options.maxSockets ?? 1024,
    pipelining: 1,
    keepAliveTimeout: idleMs,
    keepAliveMaxTimeout: idleMs,
    headersTimeout: requestTimeoutMs,
    bodyTimeout: requestTimeoutMs,
  });
  const failed = (err: unknown, signal: AbortSignal | undefined) => (signal?.aborted ? abortReason(signal) : new TypeError('fetch failed', { cause: err }));

  return (async (input: string | URL | Request, init?: RequestInit) => {
    const body = init?.body;
    if (typeof body !== 'string' || !(typeof input === 'string' || input instanceof URL)) return fallback(input, init);
    const url = typeof input === 'string' ? new URL(input) : input;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return fallback(input, init);
    const signal = init?.signal ?? undefined;
    if (signal?.aborted) throw abortReason(signal);
    let status: number;
    let headers: Record<string, string | string[] | undefined>;
    let bytes: Buffer;
    try {
      const res = await agent.request({ origin: url.origin, path: url.pathname + url.search, method: (init?.method ?? 'POST') as 'POST', headers: headerRecord(init?.headers), body, ...(signal ? { signal } : {}) });
      status = res.statusCode;
      headers = res.headers;
      bytes = Buffer.from(await res.body.arrayBuffer());
    } catch (err) {
      throw failed(err, signal);
    }
    // A status fetch cannot represent (outside 200–599): a broken server, as undici says.
    if (status < 200 || status > 599) throw new TypeError('fetch failed', { cause: new RangeError(`HTTP status ${status}`) });
    return new BufferedResponse(url.href, status, STATUS_CODES[status] ?? '', headers, NULL_BODY_STATUS.has(status) ? null : bytes) as unknown as Response;
  }) as typeof fetch;
}
