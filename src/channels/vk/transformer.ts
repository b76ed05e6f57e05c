/**
 * The grammY API transformer that makes a Bot talk VK: installed with
 * `bot.api.config.use(createVkTransformer(bridge))`, it never calls `prev` (Telegram is never
 * contacted) and answers each call from the method table with a Telegram-shaped result, so
 * grammY, its context shortcuts and conversations work unchanged. VK refusals come back as
 * Bot API errors (GrammyError: 429 with retry_after, 403 blocked, 400), an unsupported method
 * rejects with UnsupportedBotApiMethodError. Refusals are retried under the bot's one retry
 * policy (channels/api-retry.ts), as Telegram's are below grammY's stack.
 */
import type { Transformer } from 'grammy';
import { retryBotApiCall, type BotApiRetryPolicy } from '../api-retry.js';
import { toTelegramError, toVkCallError } from './errors.js';
import type { VkBridge } from './method-table.js';

export function createVkTransformer(bridge: VkBridge, options: { policy?: BotApiRetryPolicy } = {}): Transformer {
  return async (_prev, method, payload, signal) =>
    retryBotApiCall<{ ok: boolean }>(
      async () => {
        try {
          const result = await bridge.execute(method, (payload ?? {}) as Record<string, unknown>);
          return { ok: true, result } as { ok: boolean };
        } catch (err) {
          const vk = toVkCallError(err, method);
          if (vk) return toTelegramError(vk);
          throw err;
        }
      },
      // vk-io retries its own network failures (apiRetryLimit); only VK's answers are retried here.
      { ...options, signal: signal as AbortSignal | undefined },
    ) as never;
}
