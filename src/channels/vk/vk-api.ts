/**
 * The vk-io client for the community: configurable API base URL (a local fake VK in tests
 * and the sandbox), vk-io's own per-process limiter at VK_RATE_LIMIT requests per second,
 * and, with a TokenPacer, the token's schedule shared by every process (web and worker
 * together stay under VK_RATE_LIMIT, not each of them).
 */
import { createHash } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { VK } from 'vk-io';
import type { Redis } from 'ioredis';
import { createTokenPacer, type PacerPriority, type TokenPacer } from '../token-pacer.js';

export interface VkApiOptions {
  token: string;
  apiBaseUrl: string;
  rateLimitPerSecond: number;
  /** Default: keep-alive agents chosen by URL scheme (vk-io's default refuses http://). */
  agent?: HttpAgent;
  /** vk-io's own retries of network failures. */
  retryLimit?: number;
  timeoutMs?: number;
  /** The token's pacer across processes (see applyTokenPacer). */
  pacer?: TokenPacer;
  /** Whose requests these are: `high` (replies, notifications; default) or `low` (broadcasts). */
  priority?: PacerPriority;
}

export function createVkApi(options: VkApiOptions): VK {
  const http = new HttpAgent({ keepAlive: true });
  const https = new HttpsAgent({ keepAlive: true });
  // node-fetch (inside vk-io) accepts an agent-picking function; vk-io's type says https.Agent.
  const pick = options.agent ?? ((url: URL) => (url.protocol === 'http:' ? http : https));
  const vk = new VK({
    token: options.token,
    apiBaseUrl: options.apiBaseUrl,
    agent: pick as unknown as HttpsAgent,
    // One request per call: per-peer errors stay attributable and a 6 pauses only the limiter.
    apiMode: 'sequential',
    // Sequential spacing (1000/limit ms) keeps interactive latency low; burst mode would hold
    // a lone request's successor for most of a second.
    apiRequestMode: 'sequential',
    apiLimit: options.rateLimitPerSecond,
    apiRetryLimit: options.retryLimit ?? 2,
    apiTimeout: options.timeoutMs ?? 10_000,
    uploadTimeout: options.timeoutMs ?? 20_000,
  });
  if (options.pacer) applyTokenPacer(vk, options.pacer, options.priority ?? 'high');
  return vk;
}

interface VkIoRequest {
  reject(err: unknown): void;
}
interface VkIoWorker {
  [PACED]?: true;
  queue: VkIoRequest[];
  requeue?(request: VkIoRequest): void;
  execute(request?: VkIoRequest): Promise<void>;
  handleError(request: VkIoRequest, error: { code?: unknown }): Promise<void>;
}

/** VK's "too many requests per second". */
export const VK_TOO_MANY_REQUESTS = 6;

/**
 * How long an error 6 holds the token's pacer for every process. VK counts requests per
 * second and gives no retry_after; the pacer already spaces requests evenly below the cap, so
 * a 6 means a few requests arrived bunched (uneven delays between the slot and VK), and the
 * window is clear again within a few slots. vk-io's own answer to a 6 (pause this client for
 * 1133 ms, then retry) would idle a whole second of a broadcast's slots in this process; with
 * the pacer, the request goes back to the head of vk-io's queue behind this hold instead.
 */
export const VK_PACER_HOLD_MS = 300;

/** Marks a vk-io worker that already waits for the pacer (state lives on the client, not here). */
const PACED = Symbol('kabinet.vkTokenPacer');

/**
 * Makes every HTTP request of this vk-io client (calls, its own retries after a network
 * error or error 6, upload-server look-ups) wait for a slot of the token's shared pacer
 * first, at `priority` (customer replies and notifications `high`, broadcasts `low`), and
 * makes an error 6 hold the pacer for every process (vk-io then waits and retries the request
 * itself, behind the hold). vk-io has no hook for this: its API worker's `execute` (where one
 * request is made) and `handleError` are wrapped. test/channels/vk/vk-pacer.test.ts fails
 * if a vk-io upgrade moves them.
 */
export function applyTokenPacer(vk: VK, pacer: TokenPacer, priority: PacerPriority): void {
  const worker = (vk.api as unknown as { worker?: VkIoWorker }).worker;
  // One pacer per client: a second channel over the same client must not make it pay twice.
  if (worker?.[PACED]) return;
  if (!worker || typeof worker.execute !== 'function' || typeof worker.handleError !== 'function' || !Array.isArray(worker.queue)) {
    throw new Error('vk-io internals changed: cannot attach the VK token pacer (src/channels/vk/vk-api.ts)');
  }
  worker[PACED] = true;
  const execute = worker.execute.bind(worker);
  const handleError = worker.handleError.bind(worker);
  // vk-io calls execute() with no argument and lets it take the head of its queue; take it
  // here, synchronously, so requests keep their order while they wait for their slots.
  worker.execute = async (request = worker.queue.shift()) => {
    if (!request) return;
    try {
      await pacer.acquire(priority);
    } catch (err) {
      request.reject(err);
      return;
    }
    await execute(request);
  };
  worker.handleError = async (request, error) => {
    if (Number(error.code) === VK_TOO_MANY_REQUESTS) {
      // Best effort: Redis away only loses the hold; the request still waits for a slot.
      await pacer.hold(VK_PACER_HOLD_MS).catch(() => undefined);
      if (typeof worker.requeue === 'function') return worker.requeue(request);
    }
    return handleError(request, error);
  };
}

/**
 * The community token's pacer (src/channels/token-pacer.ts) at VK_RATE_LIMIT requests per
 * second, one Redis key per token (a hash of it, never the token): every client of the token
 * (the VK channel's replies, notifications, name look-ups and uploads; broadcasts' execute
 * calls) in every process takes its requests' slots from this one schedule.
 */
export function createVkTokenPacer(deps: { redis: Redis; redisKeyPrefix: string; token: string; rateLimitPerSecond: number }): TokenPacer {
  const key = `${deps.redisKeyPrefix}pace:vk:${createHash('sha256').update(deps.token).digest('hex').slice(0, 16)}:token`;
  return createTokenPacer({ redis: deps.redis, key, ratePerSecond: deps.rateLimitPerSecond });
}
