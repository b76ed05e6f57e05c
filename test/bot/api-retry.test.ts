/**
 * One retry policy for every Bot API call of the customer bot: a 429 inside a conversation
 * (whose Api grammY's conversations build afresh, without bot.api's transformers) is waited
 * out like one outside it; waits and attempts are capped. VK's side is in
 * test/channels/vk/bridge.test.ts (the transformer) and below (the bridge fetch).
 */
import { Api, GrammyError, HttpError, InputFile } from 'grammy';
import { describe, expect, it } from 'vitest';
import { menuCb, wishlistCb } from '../../src/bot/keyboards/index.js';
import { BOT_API_RETRY, createRetryingFetch } from '../../src/channels/api-retry.js';
import { createCustomer, createProduct } from '../support/factories.js';
import { TOKEN, person, useHarness } from './harness.js';

const harness = useHarness();
const noWait = { sleep: async () => undefined };

describe('the Bot API retry policy', () => {
  it('waits out a 429 for a reply made inside a conversation, and one made outside', async () => {
    const h = harness();
    await createCustomer(h.ctx.prisma, { phone: '+79160000901', firstName: 'Вера' });
    await createProduct(h.ctx.prisma, { sku: 'CUP-R', name: 'Чашка ретрайная', price: 700 });
    const p = person(h, { firstName: 'Vera', languageCode: 'ru' });
    await p.say('/start');
    await p.press(menuCb.encode('login'));
    await p.shareContact({ phone: '+79160000901', firstName: 'Vera' });

    // Outside a conversation: the menu's answer.
    h.fake.failNext(TOKEN, 'sendMessage', { errorCode: 429, description: 'Too Many Requests: retry after 1', retryAfter: 1, chatId: p.user.id });
    h.fake.failNext(TOKEN, 'editMessageText', { errorCode: 429, description: 'Too Many Requests: retry after 1', retryAfter: 1, chatId: p.user.id });
    await p.press(wishlistCb.encode('list'));
    // Inside the product search conversation: its answer to the query.
    await p.press(wishlistCb.encode('search'));
    h.fake.failNext(TOKEN, 'sendMessage', { errorCode: 429, description: 'Too Many Requests: retry after 1', retryAfter: 1, chatId: p.user.id });
    h.fake.failNext(TOKEN, 'editMessageText', { errorCode: 429, description: 'Too Many Requests: retry after 1', retryAfter: 1, chatId: p.user.id });
    await p.say('ретрайная');
    expect(p.lastText()).toContain('Нашли по запросу «ретрайная»');
    const refused = h.fake.calls(TOKEN).filter((c) => String(c.params.chat_id) === String(p.user.id) && c.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(2);
    // Every refused call was made again and went through.
    for (const call of refused) {
      expect(h.fake.calls(TOKEN).some((c) => c.method === call.method && c.status === 200 && c.at >= call.at + 1000 && String(c.params.chat_id) === String(p.user.id))).toBe(true);
    }
  });

  it('does not wait for a retry_after longer than the cap', async () => {
    const h = harness();
    const api = new Api(TOKEN, { apiRoot: h.fake.apiRoot!, fetch: createRetryingFetch() });
    const { user, say } = person(h, { firstName: 'Cap' });
    await say('/start');
    const before = h.fake.calls(TOKEN).filter((c) => String(c.params.chat_id) === String(user.id)).length;
    h.fake.failNext(TOKEN, 'sendMessage', { errorCode: 429, description: 'Too Many Requests: retry after 60', retryAfter: 60, chatId: user.id });
    const err = await api.sendMessage(user.id, 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrammyError);
    expect((err as GrammyError).parameters.retry_after).toBe(60);
    expect(h.fake.calls(TOKEN).filter((c) => String(c.params.chat_id) === String(user.id))).toHaveLength(before + 1);
  });

  it('retries 5xx a capped number of times', async () => {
    const h = harness();
    const api = new Api(TOKEN, { apiRoot: h.fake.apiRoot!, fetch: createRetryingFetch(fetch, noWait) });
    const { user, say } = person(h, { firstName: 'Five' });
    await say('/start');
    const before = h.fake.calls(TOKEN).filter((c) => String(c.params.chat_id) === String(user.id)).length;
    h.fake.failNext(TOKEN, 'sendMessage', { errorCode: 502, description: 'Bad Gateway', times: 2, chatId: user.id });
    await api.sendMessage(user.id, 'через два 502');
    h.fake.failNext(TOKEN, 'sendMessage', { errorCode: 500, description: 'Internal Server Error', times: 10, chatId: user.id });
    const err = await api.sendMessage(user.id, 'never').catch((e: unknown) => e);
    expect((err as GrammyError).error_code).toBe(500);
    expect(h.fake.calls(TOKEN).filter((c) => String(c.params.chat_id) === String(user.id)).slice(before).map((c) => c.status)).toEqual([502, 502, 200, ...Array(BOT_API_RETRY.maxRetries + 1).fill(500)]);
  });

  it('sends a file upload (a streamed multipart body) through the same fetch, once', async () => {
    const h = harness();
    const api = new Api(TOKEN, { apiRoot: h.fake.apiRoot!, fetch: createRetryingFetch() });
    const { user, say } = person(h, { firstName: 'Photo' });
    await say('/start');
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
    const sent = await api.sendPhoto(user.id, new InputFile(png, 'dot.png'), { caption: 'Фото' });
    expect(sent.photo?.length).toBeGreaterThan(0);
  });

  it('retries network errors a capped number of times, then fails', async () => {
    let calls = 0;
    const down: typeof fetch = async () => {
      calls++;
      throw new TypeError('fetch failed');
    };
    const api = new Api(TOKEN, { apiRoot: 'http://127.0.0.1:9', fetch: createRetryingFetch(down, noWait) });
    await expect(api.getMe()).rejects.toBeInstanceOf(HttpError);
    expect(calls).toBe(BOT_API_RETRY.maxRetries + 1);
  });
});
