/**
 * The grammY API transformer that makes a Bot talk VK: installed with
 * `bot.api.config.use(createVkTransformer(bridge))`, it never calls `prev` (Telegram is never
 * contacted) and answers each call from the method table with a Telegram-shaped result, so
 * grammY, its context shortcuts and conversations work unchanged. VK refusals come back as
 * Bot API errors (GrammyError: 429 with retry_after, 403 blocked, 400), an unsupported method
 * rejects with UnsupportedBotApiMethodError.
 */
import type { Transformer } from 'grammy';
import { toTelegramError, toVkCallError } from './errors.js';
import type { VkBridge } from './method-table.js';

export function createVkTransformer(bridge: VkBridge): Transformer {
  return async (_prev, method, payload) => {
    try {
      const result = await bridge.execute(method, (payload ?? {}) as Record<string, unknown>);
      return { ok: true, result } as never;
    } catch (err) {
      const vk = toVkCallError(err, method);
      if (vk) return toTelegramError(vk) as never;
      throw err;
    }
  };
}
