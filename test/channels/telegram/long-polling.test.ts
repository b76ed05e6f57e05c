/**
 * Without TELEGRAM_WEBHOOK_URL the customer bot long-polls: it removes any webhook, takes
 * updates with getUpdates from the (fake) Bot API, and stops polling on stop().
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTelegramChannel, type TelegramChannel } from '../../../src/channels/telegram/telegram-channel.js';
import { createFakeTelegram, type FakeTelegram } from '../../../src/fakes/telegram/index.js';
import { createTestContext, type TestContext } from '../../support/context.js';

const TOKEN = '7000031:AAkabinet-long-polling-test';
let fake: FakeTelegram;
let ctx: TestContext;
let channel: TelegramChannel;

beforeAll(async () => {
  fake = createFakeTelegram({ rateLimits: false });
  const apiRoot = await fake.listen();
  fake.createBot({ token: TOKEN, username: 'kabinet_polling_bot' });
  ctx = await createTestContext({ env: { TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: apiRoot } });
  channel = createTelegramChannel(ctx);
});
afterAll(async () => {
  await channel?.stop();
  await ctx?.close();
  await fake?.close();
});

describe('long polling', () => {
  it('is used when no webhook URL is configured: no route, updates come from getUpdates, and stop() ends it', async () => {
    expect(channel.plugin).toBeUndefined();
    // A webhook left from an earlier deployment would make getUpdates fail with 409.
    await fetch(`${fake.apiRoot}/bot${TOKEN}/setWebhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: 'http://127.0.0.1:9/old' }) });
    await channel.start();
    const user = fake.createUser({ firstName: 'Poll', languageCode: 'en' });
    fake.sendText(TOKEN, user.id, '/start');
    await fake.waitFor(() => fake.lastBotMessage(TOKEN, user.id) !== undefined);
    expect(fake.lastBotMessage(TOKEN, user.id)!.text).toContain('Kabinet');
    expect(fake.calls(TOKEN).some((c) => c.method === 'deleteWebhook')).toBe(true);
    expect(fake.calls(TOKEN).some((c) => c.method === 'getUpdates')).toBe(true);

    await channel.stop();
    const second = fake.createUser({ firstName: 'Late', languageCode: 'en' });
    fake.sendText(TOKEN, second.id, '/start');
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.lastBotMessage(TOKEN, second.id)).toBeUndefined();
    expect(fake.pendingUpdateCount(TOKEN)).toBe(1);
  });
});
