/**
 * The customer bot's Bot API client over keep-alive node:http: the answers grammY and the
 * retry policy see are fetch's (a Response for every HTTP status, TypeError for a lost
 * connection, the signal's reason on abort), connections are reused, and uploads go to the
 * global fetch. Against the fake Telegram and small loopback servers, over real sockets.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { Api, GrammyError, HttpError, InputFile } from 'grammy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOT_API_RETRY, createRetryingFetch } from '../../src/channels/api-retry.js';
import { createKeepAliveFetch } from '../../src/channels/keep-alive-fetch.js';
import { type FakeTelegram, type TgUser } from '../../src/fakes/telegram/index.js';
import { startFakeBot } from '../support/fake-bot.js';
import { listenOnLoopback as listen } from '../support/net.js';

const TOKEN = '7000077:AAkeep-alive-fetch-test';
const noWait = { sleep: async () => undefined };
let fake: FakeTelegram;
let apiRoot: string;
let user: TgUser;

beforeAll(async () => {
  ({ fake, apiRoot, user } = await startFakeBot(TOKEN, 'keep_alive_bot', 'Keep'));
});
afterAll(() => fake.close());


describe('the keep-alive Bot API fetch', () => {
  it('makes Bot API calls, with the answers and errors grammY expects', async () => {
    const api = new Api(TOKEN, { apiRoot, fetch: createRetryingFetch(createKeepAliveFetch(), noWait) });
    const sent = await api.sendMessage(user.id, '<b>Привет</b> — ünïcödé', { parse_mode: 'HTML' });
    expect(sent.text).toBe('Привет — ünïcödé');
    expect(fake.lastBotMessage(TOKEN, user.id)?.text).toBe('Привет — ünïcödé');
    // A 4xx is an answer, not a network failure: returned at once as grammY's error.
    const err = await api.sendMessage(user.id, '').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrammyError);
    expect((err as GrammyError).error_code).toBe(400);
    // A 429 is waited out and made again; a 5xx retried; both through the retry policy.
    fake.failNext(TOKEN, 'sendMessage', { errorCode: 429, description: 'Too Many Requests: retry after 1', retryAfter: 1, chatId: user.id });
    fake.failNext(TOKEN, 'sendMessage', { errorCode: 502, description: 'Bad Gateway', chatId: user.id });
    const before = fake.calls(TOKEN).length;
    await api.sendMessage(user.id, 'после отказов');
    expect(fake.calls(TOKEN).slice(before).map((c) => c.status)).toEqual([429, 502, 200]);
  });

  it('reuses its connections for calls made one after another (at most two: undici frees a connection a moment after its answer is read)', async () => {
    let connections = 0;
    let requests = 0;
    const server = createHttpServer((req, res) => {
      requests++;
      req.resume().on('end', () => res.setHeader('content-type', 'application/json').end(JSON.stringify({ ok: true, result: true })));
    });
    server.on('connection', () => connections++);
    const root = await listen(server);
    try {
      const api = new Api(TOKEN, { apiRoot: root, fetch: createKeepAliveFetch() });
      for (let i = 0; i < 10; i++) await api.deleteWebhook();
      expect(requests).toBe(10);
      expect(connections).toBeLessThanOrEqual(2);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('keeps an idle connection for 30 s by default (traffic comes in bursts; a new one to Telegram costs a TLS handshake), closes it after idleMs', async () => {
    let connections = 0;
    const server = createHttpServer((req, res) => {
      req.resume().on('end', () => res.setHeader('content-type', 'application/json').end(JSON.stringify({ ok: true, result: true })));
    });
    // The server keeps idle connections longer than either client (Node's own default is 5 s).
    server.keepAliveTimeout = 60_000;
    server.on('connection', () => connections++);
    const root = await listen(server);
    try {
      const api = new Api(TOKEN, { apiRoot: root, fetch: createKeepAliveFetch() });
      await api.deleteWebhook();
      // Longer than the 4 s this client used to keep a socket (undici's default).
      await new Promise((r) => setTimeout(r, 4_500));
      await api.deleteWebhook();
      expect(connections).toBe(1);
      const brief = new Api(TOKEN, { apiRoot: root, fetch: createKeepAliveFetch({ idleMs: 100 }) });
      await brief.deleteWebhook();
      await new Promise((r) => setTimeout(r, 400));
      await brief.deleteWebhook();
      expect(connections).toBe(3);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  }, 15_000);

  it("answers as fetch's Response does: status, ok, headers, a body read once, clone, 204 without a body, an impossible status refused", async () => {
    const server = createHttpServer((req, res) => {
      if (req.url?.endsWith('/gone')) {
        res.writeHead(502, 'Bad Gateway', { 'content-type': 'application/json', 'retry-after': '3' });
        res.end(JSON.stringify({ ok: false, error_code: 502, description: 'Bad Gateway: восстановим' }));
      } else if (req.url?.endsWith('/empty')) {
        res.writeHead(204);
        res.end();
      } else {
        // An impossible status line (fetch cannot represent it).
        req.socket.end('HTTP/1.1 099 Odd\r\ncontent-length: 0\r\n\r\n');
      }
    });
    const root = await listen(server);
    try {
      const f = createKeepAliveFetch();
      const res = await f(`${root}/gone`, { method: 'POST', body: '{}' });
      expect([res.status, res.ok, res.statusText]).toEqual([502, false, 'Bad Gateway']);
      expect(res.headers.get('Retry-After')).toBe('3');
      expect(await res.clone().json()).toEqual({ ok: false, error_code: 502, description: 'Bad Gateway: восстановим' });
      expect(res.bodyUsed).toBe(false);
      expect(await res.text()).toContain('восстановим');
      expect(res.bodyUsed).toBe(true);
      await expect(res.json()).rejects.toBeInstanceOf(TypeError);
      expect(() => res.clone()).toThrow(TypeError);
      const empty = await f(`${root}/empty`, { method: 'POST', body: '{}' });
      expect([empty.status, empty.ok, await empty.text()]).toEqual([204, true, '']);
      const odd = await f(`${root}/odd`, { method: 'POST', body: '{}' }).catch((e: unknown) => e);
      expect(odd).toBeInstanceOf(TypeError);
    } finally {
      server.close();
    }
  });

  it('rejects a connection lost before the answer as fetch does (TypeError), which the policy retries a capped number of times', async () => {
    let accepted = 0;
    const server = createNetServer((socket) => {
      accepted++;
      socket.destroy();
    });
    const root = await listen(server);
    try {
      const direct = createKeepAliveFetch();
      const err = await direct(`${root}/bot${TOKEN}/getMe`, { method: 'POST', body: '{}' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TypeError);
      expect((err as TypeError).message).toBe('fetch failed');
      accepted = 0;
      const api = new Api(TOKEN, { apiRoot: root, fetch: createRetryingFetch(createKeepAliveFetch(), noWait) });
      await expect(api.getMe()).rejects.toBeInstanceOf(HttpError);
      expect(accepted).toBe(BOT_API_RETRY.maxRetries + 1);
    } finally {
      server.close();
    }
  });

  it('gives up on an abort (grammY\'s timeout) without retrying', async () => {
    let requests = 0;
    const server = createHttpServer(() => {
      requests++; // never answers
    });
    const root = await listen(server);
    try {
      const api = new Api(TOKEN, { apiRoot: root, timeoutSeconds: 0.2, fetch: createRetryingFetch(createKeepAliveFetch(), noWait) });
      await expect(api.getMe()).rejects.toBeInstanceOf(HttpError);
      const controller = new AbortController();
      controller.abort(new Error('stop'));
      await expect(createKeepAliveFetch()(`${root}/x`, { method: 'POST', body: '{}', signal: controller.signal })).rejects.toThrow('stop');
      expect(requests).toBe(1);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('hands an upload (a streamed multipart body) to the fallback fetch', async () => {
    let fallbackCalls = 0;
    const fallback: typeof fetch = (input, init) => {
      fallbackCalls++;
      return fetch(input, init);
    };
    const api = new Api(TOKEN, { apiRoot, fetch: createRetryingFetch(createKeepAliveFetch({ fallback })) });
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
    const sent = await api.sendPhoto(user.id, new InputFile(png, 'dot.png'), { caption: 'Фото' });
    expect(sent.photo?.length).toBeGreaterThan(0);
    expect(fallbackCalls).toBe(1);
    await api.sendMessage(user.id, 'текст');
    expect(fallbackCalls).toBe(1);
  });
});
