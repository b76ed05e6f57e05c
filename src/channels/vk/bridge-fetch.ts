/**
 * The bridge as a grammY client `fetch`. @grammyjs/conversations builds a fresh Api for
 * every context inside a conversation from the bot's client options — without bot.api's
 * transformers — so a conversation's `ctx.reply` would otherwise go to api.telegram.org.
 * This fetch sits below grammY's whole transformer stack (where the network would be), so
 * the conversation's own replay recording still wraps the call and a replayed step does not
 * send twice. It executes the same method table as the transformer.
 *
 * File uploads inside a conversation (multipart bodies) are refused loudly; the brain's
 * conversations send text only, and bot.api's transformer handles InputFile directly.
 */
import { UnsupportedPayloadError, toTelegramError, toVkCallError } from './errors.js';
import type { VkBridge } from './method-table.js';

export function createBridgeFetch(bridge: VkBridge): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const method = url.pathname.split('/').pop() ?? '';
    const headers = new Headers(init?.headers as ConstructorParameters<typeof Headers>[0]);
    if (!headers.get('content-type')?.startsWith('application/json') || typeof init?.body !== 'string') {
      throw new UnsupportedPayloadError(`${method}: file uploads from inside a conversation are not bridged to VK`);
    }
    const payload = JSON.parse(init.body) as Record<string, unknown>;
    let body: { ok: boolean; error_code?: number };
    try {
      body = { ok: true, result: await bridge.execute(method, payload) } as { ok: boolean };
    } catch (err) {
      const vk = toVkCallError(err, method);
      if (!vk) throw err;
      body = toTelegramError(vk);
    }
    // The HTTP status the Bot API would give (429, 403, 400), so the retry policy reads it as it reads Telegram's.
    return new Response(JSON.stringify(body), { status: body.ok ? 200 : (body.error_code ?? 400), headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
}
