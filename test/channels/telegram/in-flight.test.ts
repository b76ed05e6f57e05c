/**
 * A worker keeps as many chats' Bot API calls in flight as it handles chats at once
 * (INBOUND_CONCURRENCY), not fewer. A handler mostly waits on the Bot API's round trip, so the
 * calls in flight are what bound a worker's throughput: at Telegram's ~100 ms, 32 of them (the
 * old default) allowed ~300 updates/s, and the bot's HTTP client, capped at 64 sockets, allowed no
 * more than 64 whatever the setting. The fake answers every call three seconds late here, as a
 * slow round trip would (long enough that on a busy machine every chat's handler reaches its call
 * while the first calls still wait); the test counts the calls the fake is answering at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeTelegram, type FakeTelegram } from '../../../src/fakes/telegram/index.js';
import type { TestContext } from '../../support/context.js';
import { startOneProcess, type OneProcess } from '../../support/one-process.js';
import { eventually } from '../../bot/harness.js';

const TOKEN = '7000098:AAkabinet-in-flight-test';
const CHATS = 150;

let ctx: TestContext;
let fake: FakeTelegram;
let kabinet: OneProcess;

beforeAll(async () => {
  fake = createFakeTelegram({ rateLimits: false, recordCalls: true, apiLatencyMs: 3_000 });
  // As `npm run dev` runs, INBOUND_CONCURRENCY left at its default: the default is what is checked.
  kabinet = await startOneProcess(fake, await fake.listen(), { token: TOKEN, username: 'kabinet_in_flight_bot', secret: 'in-flight_1' });
  ctx = kabinet.ctx;
}, 60_000);
afterAll(async () => {
  await kabinet?.close();
  await fake?.close();
});

describe('calls in flight', () => {
  it('a worker keeps one Bot API call in flight per chat it handles, up to INBOUND_CONCURRENCY (128), and no more', async () => {
    expect(ctx.config.inbound.concurrency).toBe(128);
    const users = Array.from({ length: CHATS }, (_, i) => fake.createUser({ firstName: `Guest${i}`, languageCode: 'ru' }));
    fake.apiConcurrency({ resetPeak: true });
    for (const user of users) fake.sendText(TOKEN, user.id, '/help');
    const answered = (chatId: number) =>
      fake.calls(TOKEN).some((c) => c.method === 'sendMessage' && Number((c.params as { chat_id?: unknown }).chat_id) === chatId && String((c.params as { text?: unknown }).text).includes('Помощь'));
    await eventually(async () => users.every((u) => answered(u.id)), 30_000);
    const { peak } = fake.apiConcurrency();
    // Every chat's help was answered, most of them together: far more than the 64 sockets the
    // client had, never more than the chats a worker takes at once.
    expect(peak).toBeGreaterThan(100);
    expect(peak).toBeLessThanOrEqual(ctx.config.inbound.concurrency);
  }, 60_000);
});
