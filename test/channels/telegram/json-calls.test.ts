/**
 * Plain JSON Bot API calls without grammY's client machinery (json-calls.ts): the same request
 * (path, headers, body byte for byte) and the same outcomes (the result, GrammyError,
 * HttpError) as grammY's own client, the retry policy below it unchanged, everything else left
 * to grammY, and a call that gets no answer ends. Against the fake Telegram and loopback
 * servers, over real sockets.
 */
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { Api, GrammyError, HttpError, InlineKeyboard, InputFile } from 'grammy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRetryingFetch } from '../../../src/channels/api-retry.js';
import { createKeepAliveFetch } from '../../../src/channels/keep-alive-fetch.js';
import { JSON_ONLY_METHODS, jsonBody, jsonCallsFor, useJsonCalls } from '../../../src/channels/telegram/json-calls.js';
import { createTelegramSender } from '../../../src/channels/telegram-sender.js';
import { type FakeTelegram, type TgUser } from '../../../src/fakes/telegram/index.js';
import { freePort, listenOnLoopback as listen } from '../../support/net.js';
import { startFakeBot } from '../../support/fake-bot.js';
import { createHarness } from '../../bot/harness.js';

const TOKEN = '7000078:AAjson-calls-test';
const noWait = { sleep: async () => undefined };
let fake: FakeTelegram;
let apiRoot: string;
let user: TgUser;

beforeAll(async () => {
  ({ fake, apiRoot, user } = await startFakeBot(TOKEN, 'json_calls_bot', 'Json'));
});
afterAll(() => fake.close());


/** An Api with the transformer installed first, as the customer bot and the sender do. */
function fastApi(root: string, fetchFn: typeof fetch = createRetryingFetch(createKeepAliveFetch(), noWait)) {
  const client = { apiRoot: root, fetch: fetchFn };
  const api = new Api(TOKEN, client);
  if (!useJsonCalls(api, client)) throw new Error('expected the transformer');
  return api;
}

/** A server that records each request and answers with `answer` (the status and JSON body). */
async function recorder(answer: (path: string) => { status: number; body: string } = () => ({ status: 200, body: '{"ok":true,"result":true}' })) {
  const seen: { path: string; headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const { status, body } = answer(req.url ?? '');
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
  });
  return { seen, server, root: await listen(server) };
}

describe('plain JSON Bot API calls', () => {
  it('sends what grammY sends: the same path, content type and body, null values dropped', async () => {
    const { seen, server, root } = await recorder();
    try {
      const plain = new Api(TOKEN, { apiRoot: root, fetch: createKeepAliveFetch() });
      const fast = fastApi(root);
      const menu = new InlineKeyboard().text('Заказы', 'o:list:0').text('null', 'x:null').row().url('Сайт', 'https://shop.example/?q="a"&b=\\');
      const cases: [string, Record<string, unknown>][] = [
        ['sendMessage', { chat_id: 42, text: '<b>Меню</b> — ünïcödé 🙂 "quotes" \\ \u2028', parse_mode: 'HTML', reply_markup: menu, link_preview_options: { is_disabled: true } }],
        // null anywhere is dropped, as grammY's own serialiser does; "null" in a text is kept.
        ['editMessageText', { chat_id: 42, message_id: 7, text: 'null and :null', reply_markup: null, entities: [{ type: 'bold', offset: 0, length: 4, url: null }] }],
        ['answerCallbackQuery', { callback_query_id: 'abc', text: undefined, show_alert: false }],
        ['deleteMessage', { chat_id: -1001234567890, message_id: 9 }],
      ];
      for (const [method, payload] of cases) {
        await (plain.raw as unknown as Record<string, (p: unknown) => Promise<unknown>>)[method]!(payload);
        await (fast.raw as unknown as Record<string, (p: unknown) => Promise<unknown>>)[method]!(payload);
        const [viaGrammy, viaFast] = seen.splice(0, 2);
        expect(viaFast!.path).toBe(`/bot${TOKEN}/${method}`);
        expect(viaFast!.path).toBe(viaGrammy!.path);
        expect(viaFast!.body).toBe(viaGrammy!.body);
        expect(viaFast!.headers['content-type']).toBe(viaGrammy!.headers['content-type']);
      }
      expect(jsonBody(undefined)).toBe('{}');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('gives back what grammY gives: the result, GrammyError for a refusal, HttpError for a broken answer or a lost connection', async () => {
    const api = fastApi(apiRoot);
    const sent = await api.sendMessage(user.id, '<b>Привет</b>', { parse_mode: 'HTML', reply_markup: new InlineKeyboard().text('A', 'a') });
    expect(sent.text).toBe('Привет');
    expect(sent.reply_markup?.inline_keyboard[0]?.[0]?.text).toBe('A');
    expect(fake.lastBotMessage(TOKEN, user.id)?.text).toBe('Привет');
    const edited = await api.editMessageText(user.id, sent.message_id, 'Изменено');
    expect(edited).toMatchObject({ text: 'Изменено' });

    const refused = await api.sendMessage(user.id, '').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GrammyError);
    expect(refused).toMatchObject({ error_code: 400, method: 'sendMessage', payload: { chat_id: user.id, text: '' } });

    // A 429 and a 5xx still go through the retry policy, which sits in the fetch below.
    fake.failNext(TOKEN, 'sendMessage', { errorCode: 429, description: 'Too Many Requests: retry after 1', retryAfter: 1, chatId: user.id });
    fake.failNext(TOKEN, 'sendMessage', { errorCode: 502, description: 'Bad Gateway', chatId: user.id });
    const before = fake.calls(TOKEN).length;
    await api.sendMessage(user.id, 'после отказов');
    expect(fake.calls(TOKEN).slice(before).map((c) => c.status)).toEqual([429, 502, 200]);

    // A proxy's HTML page, and nobody listening: grammY's HttpError, with grammY's message.
    const { server, root } = await recorder(() => ({ status: 502, body: '<html>Bad Gateway</html>' }));
    try {
      const broken = await fastApi(root, createKeepAliveFetch()).sendMessage(1, 'x').catch((e: unknown) => e);
      expect(broken).toBeInstanceOf(HttpError);
      expect((broken as HttpError).message).toBe("Network request for 'sendMessage' failed!");
    } finally {
      server.closeAllConnections();
      server.close();
    }
    const gone = await fastApi(`http://127.0.0.1:${await freePort()}`, createKeepAliveFetch()).answerCallbackQuery('q').catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(HttpError);
    expect((gone as HttpError).message).toBe("Network request for 'answerCallbackQuery' failed!");
    expect(String((gone as HttpError).message)).not.toContain(TOKEN);
  });

  it('leaves to grammY an upload, a method not listed and a call with an abort signal', async () => {
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls++;
      return createKeepAliveFetch()(input, init);
    };
    const api = fastApi(apiRoot, counting);
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
    expect(JSON_ONLY_METHODS.has('sendPhoto')).toBe(false);
    const photo = await api.sendPhoto(user.id, new InputFile(png, 'dot.png'), { caption: 'Фото' });
    expect(photo.photo?.length).toBeGreaterThan(0);
    const controller = new AbortController();
    const withSignal = await api.sendMessage(user.id, 'с сигналом', {}, controller.signal as never);
    expect(withSignal.text).toBe('с сигналом');
    // Both went through grammY's client (which also calls the client's fetch); an aborted
    // signal is grammY's to honour.
    expect(calls).toBe(2);
    controller.abort();
    await expect(api.sendMessage(user.id, 'поздно', {}, controller.signal as never)).rejects.toThrow();
  });

  it('is not used where it would not be grammY: webhook replies, a custom URL builder, no fetch given', () => {
    const fetchFn = createKeepAliveFetch();
    expect(jsonCallsFor(TOKEN, { fetch: fetchFn })).toBeTypeOf('function');
    expect(jsonCallsFor(TOKEN, { fetch: fetchFn, canUseWebhookReply: () => true })).toBeUndefined();
    expect(jsonCallsFor(TOKEN, { fetch: fetchFn, buildUrl: (root, token, method) => `${root}/x${token}/${method}` })).toBeUndefined();
    expect(jsonCallsFor(TOKEN, {})).toBeUndefined();
  });

  it('is installed first or not at all: an Api that already has a transformer is refused', () => {
    const client = { apiRoot, fetch: createKeepAliveFetch() };
    const api = new Api(TOKEN, client);
    api.config.use((prev, method, payload, signal) => prev(method, payload, signal));
    expect(() => useJsonCalls(api, client)).toThrow('before any other transformer');
    expect(api.config.installedTransformers()).toHaveLength(1);
  });

  it("ends a call that gets no answer at the fetch's time limit, and a reused connection is not cut by it", async () => {
    let connections = 0;
    let silent = false;
    const server = createHttpServer((req, res) => {
      req.resume().on('end', () => {
        if (!silent) res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"result":true}');
      });
    });
    server.on('connection', () => connections++);
    const root = await listen(server);
    try {
      const api = fastApi(root, createKeepAliveFetch({ requestTimeoutMs: 150 }));
      await api.deleteMessage(1, 1);
      expect(connections).toBe(1);
      // Idle for longer than the call's limit: the connection waits in the pool and is reused.
      await new Promise((r) => setTimeout(r, 300));
      await api.deleteMessage(1, 2);
      expect(connections).toBe(1);
      silent = true;
      const started = Date.now();
      const err = await api.deleteMessage(1, 3).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HttpError);
      expect(((err as HttpError).error as TypeError).message).toBe('fetch failed');
      expect(String(((err as HttpError).error as TypeError).cause)).toContain('HeadersTimeoutError');
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('carries the send queues: a sent message, the refusals classified as before', async () => {
    const sender = createTelegramSender({ token: TOKEN, apiRoot, timeoutSeconds: 5 });
    const result = await sender.send({ method: 'sendMessage', payload: { chat_id: user.id, text: 'Заказ отправлен' } });
    expect(Number(result.messageId)).toBeGreaterThan(0);
    expect(fake.lastBotMessage(TOKEN, user.id)?.text).toBe('Заказ отправлен');
    fake.failNext(TOKEN, 'sendMessage', { errorCode: 429, description: 'Too Many Requests: retry after 3', retryAfter: 3, chatId: user.id });
    await expect(sender.send({ method: 'sendMessage', payload: { chat_id: user.id, text: 'x' } })).rejects.toMatchObject({ kind: 'rate_limited', retryAfterSeconds: 3 });
    fake.failNext(TOKEN, 'sendMessage', { errorCode: 403, description: 'Forbidden: bot was blocked by the user', chatId: user.id });
    await expect(sender.send({ method: 'sendMessage', payload: { chat_id: user.id, text: 'x' } })).rejects.toMatchObject({ kind: 'blocked' });
  });
});

describe('the customer bot', () => {
  it('makes its Telegram calls this way (installed first on bot.api, before any other transformer)', async () => {
    const h = await createHarness();
    try {
      const instance = await h.startInstance({ webhook: false });
      const installed = instance.channel.customerBot.bot.api.config.installedTransformers();
      expect(installed.length).toBeGreaterThanOrEqual(1);
      // The first one installed is the innermost: given a listed method and no signal, it never calls prev.
      let prevCalled = false;
      const prev = (async () => {
        prevCalled = true;
        return { ok: true, result: true };
      }) as never;
      const envelope = await installed[0]!(prev, 'getMe', {} as never);
      expect(prevCalled).toBe(false);
      expect(envelope).toMatchObject({ ok: true, result: { username: 'kabinet_shop_bot' } });
    } finally {
      await h.close();
    }
  });
});
