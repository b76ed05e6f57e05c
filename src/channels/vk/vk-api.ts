/**
 * The vk-io client for the community: configurable API base URL (a local fake VK in tests
 * and the sandbox), vk-io's own per-process limiter at VK_RATE_LIMIT requests per second.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { VK } from 'vk-io';
import type { Config } from '../../config/index.js';

export interface VkApiOptions {
  token: string;
  apiBaseUrl: string;
  rateLimitPerSecond: number;
  /** Default: keep-alive agents chosen by URL scheme (vk-io's default refuses http://). */
  agent?: HttpAgent;
  /** vk-io's own retries of network failures. */
  retryLimit?: number;
  timeoutMs?: number;
}

export function createVkApi(options: VkApiOptions): VK {
  const http = new HttpAgent({ keepAlive: true });
  const https = new HttpsAgent({ keepAlive: true });
  // node-fetch (inside vk-io) accepts an agent-picking function; vk-io's type says https.Agent.
  const pick = options.agent ?? ((url: URL) => (url.protocol === 'http:' ? http : https));
  return new VK({
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
}

export function vkApiFromConfig(config: Config['vk']): VK | undefined {
  if (!config.token) return undefined;
  return createVkApi({ token: config.token, apiBaseUrl: config.apiBaseUrl, rateLimitPerSecond: config.rateLimitPerSecond });
}
