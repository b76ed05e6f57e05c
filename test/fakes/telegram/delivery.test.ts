import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { Bot, GrammyError, webhookCallback } from 'grammy';
import { Telegraf } from 'telegraf';
import { afterEach, describe, expect, it } from 'vitest';
import { ERRORS } from '../../../src/fakes/telegram/index.js';
import { errorOf, startFake } from './helpers.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});


describe('webhook delivery', () => {
  it('POSTs updates with the secret header and retries a failed one before the chat’s next update', async () => {
    const { fake, apiRoot, token, user } = await startFake({ webhookRetry: { baseDelayMs: 5, maxDelayMs: 20 } });
    const other = fake.createUser({ firstName: 'Oleg' });
    const bot = new Bot(token, { client: { apiRoot } });
    await bot.init();
    const seen: string[] = [];
    let failed = false;
    bot.on('message:text', (ctx) => {
      seen.push(`${ctx.chat.id}:${ctx.message.text}`);
      if (ctx.message.text === 'first' && !failed) {
        failed = true;
        throw new Error('database is down');
      }
    });
    const receiver = Fastify();
    receiver.post('/tg', webhookCallback(bot, 'fastify', { secretToken: 'kabinet_Secret-1' }));
    const hookUrl = await receiver.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => receiver.close());

    await bot.api.setWebhook(`${hookUrl}/tg`, { secret_token: 'kabinet_Secret-1', max_connections: 5 });
    fake.sendText(token, user.id, 'first');
    fake.sendText(token, user.id, 'second');
    fake.sendText(token, other.id, 'other chat');
    await fake.waitForDelivery(token);

    const anna = seen.filter((s) => s.startsWith(`${user.id}:`));
    expect(anna).toEqual([`${user.id}:first`, `${user.id}:first`, `${user.id}:second`]);
    expect(seen).toContain(`${other.id}:other chat`);
    const info = await bot.api.getWebhookInfo();
    expect(info).toMatchObject({ url: `${hookUrl}/tg`, pending_update_count: 0, max_connections: 5 });
    expect(info.last_error_message).toBe('Wrong response from the webhook: 500 Internal Server Error');
  });

  it('keeps retrying while the secret is wrong and reports it in getWebhookInfo', async () => {
    const { fake, apiRoot, token, user } = await startFake({ webhookRetry: { baseDelayMs: 5, maxDelayMs: 10 } });
    const bot = new Bot(token, { client: { apiRoot } });
    await bot.init();
    bot.on('message', () => undefined);
    const receiver = Fastify();
    receiver.post('/tg', webhookCallback(bot, 'fastify', { secretToken: 'expected' }));
    const hookUrl = await receiver.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => receiver.close());

    const invalid = await errorOf(bot.api.setWebhook(`${hookUrl}/tg`, { secret_token: 'has spaces!' }), GrammyError);
    expect(invalid.error_code).toBe(400);
    await bot.api.setWebhook(`${hookUrl}/tg`, { secret_token: 'wrong' });
    fake.sendText(token, user.id, 'hello');
    await fake.waitFor(() => fake.deliveryStats(token).failedAttempts >= 2);
    const info = await bot.api.getWebhookInfo();
    expect(info.pending_update_count).toBe(1);
    expect(info.last_error_message).toBe('Wrong response from the webhook: 401 Unauthorized');
    // Fix the secret: the queued update goes through.
    await bot.api.setWebhook(`${hookUrl}/tg`, { secret_token: 'expected' });
    await fake.waitForDelivery(token);
    expect((await bot.api.getWebhookInfo()).pending_update_count).toBe(0);
  });

  it('treats failWebhook deliveries as failures and drops pending updates on request', async () => {
    const { fake, apiRoot, token, user } = await startFake({ webhookRetry: { baseDelayMs: 5, maxDelayMs: 10 } });
    const bot = new Bot(token, { client: { apiRoot } });
    await bot.init();
    const texts: string[] = [];
    bot.on('message:text', (ctx) => {
      texts.push(ctx.message.text);
    });
    const receiver = Fastify();
    receiver.post('/tg', webhookCallback(bot, 'fastify'));
    const hookUrl = await receiver.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => receiver.close());

    fake.sendText(token, user.id, 'queued before webhook');
    await bot.api.setWebhook(`${hookUrl}/tg`, { drop_pending_updates: true });
    fake.failWebhook(token, 2);
    fake.sendText(token, user.id, 'after two failures');
    await fake.waitForDelivery(token);
    expect(texts).toEqual(['after two failures']);
  });

  it('serves a Telegraf bot over webhook, including a webhook reply (method in the response body)', async () => {
    const { fake, apiRoot, token, user } = await startFake();
    const bot = new Telegraf(token, { telegram: { apiRoot, webhookReply: true } });
    bot.start((ctx) => ctx.reply('Добро пожаловать', { reply_markup: { inline_keyboard: [[{ text: 'Заказы', callback_data: 'orders' }]] } }));
    // Telegraf sends answerCallbackQuery as the webhook response body; Telegram executes it.
    bot.action('orders', (ctx) => ctx.answerCbQuery('Открываю'));
    const server = createServer(bot.webhookCallback('/staff', { secretToken: 'tg_secret' }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(
      () =>
        new Promise((resolve) => {
          server.closeAllConnections();
          server.close(resolve);
        }),
    );
    const { port } = server.address() as AddressInfo;

    await bot.telegram.setWebhook(`http://127.0.0.1:${port}/staff`, { secret_token: 'tg_secret' });
    fake.sendText(token, user.id, '/start');
    const [reply] = await fake.waitForCalls(token, 'sendMessage', 1);
    expect(reply).toMatchObject({ viaWebhookReply: false, status: 200, params: { chat_id: user.id, text: 'Добро пожаловать' } });

    const press = fake.pressButton(token, user.id, reply?.response.result ? (reply.response.result as { message_id: number }).message_id : 0, 'orders');
    const [answer] = await fake.waitForCalls(token, 'answerCallbackQuery', 1);
    expect(answer).toMatchObject({ viaWebhookReply: true, status: 200 });
    expect(fake.callbackAnswer(token, press.callback_query?.id ?? '')).toMatchObject({ text: 'Открываю' });
  });
});

describe('getUpdates', () => {
  it('long-polls until an update arrives and confirms by offset', async () => {
    const { fake, apiRoot, token, user } = await startFake();
    const bot = new Bot(token, { client: { apiRoot } });
    const polling = bot.api.getUpdates({ offset: 0, timeout: 25 });
    await fake.waitFor(() => fake.isLongPolling(token));

    const concurrent = await errorOf(bot.api.getUpdates({ offset: 0, timeout: 1 }), GrammyError);
    expect([concurrent.error_code, concurrent.description]).toEqual([409, `Conflict: ${ERRORS.otherGetUpdates}`]);

    fake.sendText(token, user.id, 'one');
    fake.sendText(token, user.id, 'two');
    const first = await polling;
    expect(first.map((u) => u.message?.text)).toEqual(['one', 'two']);
    expect(first.map((u) => u.update_id)).toEqual([1, 2]);

    // Not confirmed yet: offset 0 returns them again; limit applies.
    expect((await bot.api.getUpdates({ offset: 0, limit: 1 })).map((u) => u.update_id)).toEqual([1]);
    expect(await bot.api.getUpdates({ offset: 3 })).toEqual([]);
    expect((await bot.api.getWebhookInfo()).pending_update_count).toBe(0);
  });

  it('refuses getUpdates while a webhook is set', async () => {
    const { apiRoot, token } = await startFake();
    const bot = new Bot(token, { client: { apiRoot } });
    await bot.api.setWebhook('http://127.0.0.1:9/never');
    const conflict = await errorOf(bot.api.getUpdates(), GrammyError);
    expect([conflict.error_code, conflict.description]).toEqual([409, `Conflict: ${ERRORS.webhookActive}`]);
    await bot.api.deleteWebhook();
    expect(await bot.api.getUpdates()).toEqual([]);
  });

  it('runs a grammY bot with bot.start() end to end', async () => {
    const { fake, apiRoot, token, user } = await startFake();
    const bot = new Bot(token, { client: { apiRoot } });
    bot.command('start', (ctx) => ctx.reply(`Здравствуйте, ${ctx.from?.first_name ?? ''}! ${ctx.match}`));
    bot.on('callback_query:data', (ctx) => ctx.answerCallbackQuery({ text: ctx.callbackQuery.data }));
    void bot.start();
    closers.push(() => bot.stop());

    fake.startWithPayload(token, user.id, 'promo_2026');
    await fake.waitForCalls(token, 'sendMessage', 1);
    expect(fake.lastBotMessage(token, user.id)?.text).toBe('Здравствуйте, Anna! promo_2026');
  });
});
