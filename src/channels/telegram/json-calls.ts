/**
 * Plain JSON Bot API calls made without grammY's client machinery: a grammY transformer,
 * installed first on an Api (so every other transformer still wraps it), that sends the
 * calls which can never carry a file (sendMessage, editMessageText, answerCallbackQuery…)
 * straight through the client's own `fetch` and hands grammY back the Bot API's envelope,
 * exactly what grammY's client would have returned for it.
 *
 * Why: for each call grammY's client walks the payload for files, makes an AbortController
 * (a polyfill's, on Node) whose signal the HTTP request then listens to, arms and clears a
 * 500 s timer, and races three promises; measured on the 2-core machine against a loopback
 * server (`npm run bench:api-calls`; bench/README.md, eighth session), that is about 35 µs of
 * CPU per sendMessage on top of the ~80 µs the call costs without it, close to a tenth of the
 * customer bot's CPU per /start update near its ceiling.
 *
 * What stays the same, for the callers (grammY's `callApi`, the retry policy below it):
 * - the request: POST `<apiRoot>/bot<token>/<method>`, `content-type: application/json`, the
 *   body as grammY serialises it (null values dropped, as its `str` does);
 * - the outcome: the parsed envelope (`callApi` turns `ok: false` into a GrammyError), and
 *   anything that goes wrong on the way (refused connection, a body that is not JSON) into
 *   grammY's HttpError with grammY's message;
 * - the fetch: the client's own, so the retry policy (api-retry.ts) and the keep-alive
 *   connections are the same. Its time limit is the fetch's (keep-alive-fetch.ts:
 *   `requestTimeoutMs`), not grammY's timer.
 * Everything else goes to grammY's client untouched (`prev`): a call with an abort signal,
 * any method not listed below (uploads, getUpdates' long poll), and every call when the client
 * uses webhook replies or its own URL builder (options this transformer does not mimic).
 */
import { HttpError, type Api, type ApiClientOptions, type Transformer } from 'grammy';

/**
 * Methods whose parameters are never an InputFile (Bot API 9.x): these never need
 * multipart/form-data. Kept to the calls the customer bot and the send queues make.
 */
export const JSON_ONLY_METHODS: ReadonlySet<string> = new Set([
  'sendMessage',
  'editMessageText',
  'editMessageReplyMarkup',
  'editMessageCaption',
  'answerCallbackQuery',
  'deleteMessage',
  'deleteMessages',
  'sendChatAction',
  'copyMessage',
  'forwardMessage',
  'setMessageReaction',
  'sendContact',
  'sendLocation',
  'getMe',
  'getChat',
  'setMyCommands',
  'deleteMyCommands',
  'setChatMenuButton',
]);

const HEADERS = { 'content-type': 'application/json', connection: 'keep-alive' } as const;
const dropNulls = (_key: string, value: unknown) => value ?? undefined;

/**
 * The body grammY's client would send: JSON without null values. A plain stringify first (no
 * replacer: a third of the cost); only a body that has `null` somewhere, even inside a text, is
 * made again grammY's way.
 */
export function jsonBody(payload: unknown): string {
  const plain = JSON.stringify(payload ?? {});
  return plain.includes('null') ? JSON.stringify(payload ?? {}, dropNulls) : plain;
}

/**
 * The transformer for an Api made with `token` and these client options (install it first:
 * `api.config.use(t)` before any other). Undefined when the options ask for what it does not
 * mimic (webhook replies, a custom URL builder) or give no fetch of their own.
 */
export function jsonCallsFor(token: string, client: ApiClientOptions): Transformer | undefined {
  const fetchFn = client.fetch as typeof fetch | undefined;
  if (!fetchFn || client.canUseWebhookReply || client.buildUrl) return undefined;
  const base = `${client.apiRoot ?? 'https://api.telegram.org'}/bot${token}/${client.environment === 'test' ? 'test/' : ''}`;
  return async (prev, method, payload, signal) => {
    if (signal !== undefined || !JSON_ONLY_METHODS.has(method)) return prev(method, payload, signal);
    try {
      const res = await fetchFn(base + method, { method: 'POST', headers: HEADERS, body: jsonBody(payload) });
      return (await res.json()) as Awaited<ReturnType<typeof prev>>;
    } catch (err) {
      // grammY's toHttpError, word for word (the token is never in it).
      throw new HttpError(`Network request for '${method}' failed!`, err);
    }
  };
}

/**
 * Installs the transformer on `api`, made with these client options, where it applies (see
 * jsonCallsFor); true when installed. It must be the first one (innermost: every transformer
 * added later wraps it), so an Api that already has transformers is refused.
 */
export function useJsonCalls(api: Api, client: ApiClientOptions): boolean {
  if (api.config.installedTransformers().length > 0) throw new Error('useJsonCalls: install it before any other transformer');
  const transformer = jsonCallsFor(api.token, client);
  if (transformer) api.config.use(transformer);
  return transformer !== undefined;
}
