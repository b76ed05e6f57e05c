/**
 * The vk-io client for the community: configurable API base URL (a local fake VK in tests
 * and the sandbox), vk-io's own per-process limiter at VK_RATE_LIMIT requests per second,
 * and, with a RateBudget, the token's budget shared by every process (web and worker
 * together stay under VK_RATE_LIMIT, not each of them).
 */
import { createHash } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { VK } from 'vk-io';
import type { Redis } from 'ioredis';
import { createRateBudget, type RateBudget } from '../rate-budget.js';

export interface VkApiOptions {
  token: string;
  apiBaseUrl: string;
  rateLimitPerSecond: number;
  /** Default: keep-alive agents chosen by URL scheme (vk-io's default refuses http://). */
  agent?: HttpAgent;
  /** vk-io's own retries of network failures. */
  retryLimit?: number;
  timeoutMs?: number;
  /** The token's budget across processes (see applyRateBudget). */
  budget?: RateBudget;
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
  if (options.budget) applyRateBudget(vk, options.budget);
  return vk;
}

interface VkIoRequest {
  reject(err: unknown): void;
}
interface VkIoWorker {
  [BUDGETED]?: true;
  queue: VkIoRequest[];
  execute(request?: VkIoRequest): Promise<void>;
}

/**
 * Makes every HTTP request of this vk-io client (calls, its own retries after a network
 * error or error 6, upload-server look-ups) wait for a slot of the shared budget first.
 * vk-io has no hook for this: its API worker's `execute` (where one request is made) is
 * wrapped. test/channels/vk/rate-budget.test.ts fails if a vk-io upgrade moves it.
 */
/** Marks a vk-io worker that already waits for a budget (state lives on the client, not here). */
const BUDGETED = Symbol('kabinet.vkRateBudget');

export function applyRateBudget(vk: VK, budget: RateBudget): void {
  const worker = (vk.api as unknown as { worker?: VkIoWorker }).worker;
  // One budget per client: a second channel over the same client must not make it pay twice.
  if (worker?.[BUDGETED]) return;
  if (!worker || typeof worker.execute !== 'function' || !Array.isArray(worker.queue)) {
    throw new Error('vk-io internals changed: cannot attach the shared VK rate budget (src/channels/vk/vk-api.ts)');
  }
  worker[BUDGETED] = true;
  const execute = worker.execute.bind(worker);
  // vk-io calls execute() with no argument and lets it take the head of its queue; take it
  // here, synchronously, so requests keep their order while they wait for the budget.
  worker.execute = async (request = worker.queue.shift()) => {
    if (!request) return;
    try {
      await budget.acquire();
    } catch (err) {
      request.reject(err);
      return;
    }
    await execute(request);
  };
}

/**
 * The community token's request budget (VK_RATE_LIMIT per second), one Redis key per token
 * (a hash of it, never the token): every client of the token (the VK channel's replies and
 * notifications, broadcasts) in every process takes its requests from this one budget.
 */
export function createVkTokenBudget(deps: { redis: Redis; redisKeyPrefix: string; token: string; rateLimitPerSecond: number }): RateBudget {
  const key = `${deps.redisKeyPrefix}vk:budget:${createHash('sha256').update(deps.token).digest('hex').slice(0, 16)}`;
  return createRateBudget({ redis: deps.redis, key, limit: deps.rateLimitPerSecond });
}

