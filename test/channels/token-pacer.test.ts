/**
 * The bot token's pacer (src/channels/token-pacer.ts) on the real Redis: slots are granted
 * in runs within a horizon, broadcasts (low) wait while notifications (high) still get a
 * slot, a hold after a 429 stops both, and two "processes" (each with its own Redis
 * connection and pacer) sending to the fake Telegram together stay under the bot's cap,
 * which two unshared pacers do not.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTelegramSender } from '../../src/channels/telegram-sender.js';
import { COLD_START_MS, createTokenPacer, PACER_HEADROOM, type TokenPacer } from '../../src/channels/token-pacer.js';
import { createFakeTelegram, type FakeTelegram } from '../../src/fakes/telegram/index.js';
import { redisClients } from '../support/redis-clients.js';

const prefix = `kt-pacer-${randomBytes(4).toString('hex')}:`;
const TOKEN = '7000321:AApacer-test-token-xxxxxxxxxxxxx';
const CAP = 20;
let fake: FakeTelegram;
let root: string;

const redis = redisClients(prefix);

beforeAll(async () => {
  fake = createFakeTelegram({ requireStart: false, recordCalls: true, rateLimits: { global: { burst: CAP, perSecond: CAP } } });
  root = await fake.listen();
  fake.createBot({ token: TOKEN, username: 'pacer_test_bot' });
});
afterAll(async () => {
  await fake?.close();
});

describe('the token pacer', () => {
  it('spaces slots 3% under the cap', () => {
    for (const rate of [1, 20, 30, 1000]) {
      const pacer = createTokenPacer({ redis: redis(), key: `${prefix}spacing`, ratePerSecond: rate });
      expect(1000 / pacer.spacingMs, `rate ${rate}`).toBeLessThanOrEqual(rate * (1 - PACER_HEADROOM) + 1e-9);
      expect(1000 / pacer.spacingMs, `rate ${rate}`).toBeGreaterThan(rate * (1 - PACER_HEADROOM) * 0.999);
    }
  });

  it('grants runs of slots within the horizon; broadcasts wait behind notifications; a hold stops both', async () => {
    // 1 message/s: one slot every ~1031 ms, so one broadcast slot fits the 100 ms horizon.
    const pacer = createTokenPacer({ redis: redis(), key: `${prefix}priority`, ratePerSecond: 1 });
    const first = await pacer.reserve(5, 'low');
    expect(first).toMatchObject({ count: 1 });
    // The schedule is now ~1 s ahead: beyond a broadcast's horizon...
    const low = await pacer.reserve(5, 'low');
    expect(low.count).toBe(0);
    expect(low.waitMs).toBeGreaterThan(500);
    // ...but within a notification's: it gets the next slot, after the one already granted.
    const high = await pacer.reserve(1, 'high');
    expect(high.count).toBe(1);
    expect(high.firstInMs).toBeGreaterThan(500);

    // A process's first message gets one slot, and the next COLD_START_MS of the schedule stay
    // empty (it goes out later after its slot than any other); then a fast schedule grants a
    // run in one round trip, after the gap.
    const fast = createTokenPacer({ redis: redis(), key: `${prefix}run`, ratePerSecond: 1000 });
    const cold = await fast.reserve(500, 'low');
    expect(cold.count).toBe(1);
    const run = await fast.reserve(500, 'low');
    expect(run.count).toBeGreaterThan(50);
    expect(run.count).toBeLessThan(500);
    expect(run.firstInMs).toBeGreaterThan(COLD_START_MS / 2);

    // After a 429: nobody, whatever the priority, until the hold is over.
    await fast.hold(10_000);
    expect((await fast.reserve(1, 'high')).count).toBe(0);
    expect((await fast.reserve(1, 'low')).count).toBe(0);
  });

  async function sendAll(pacers: TokenPacer[], perProcess: number): Promise<void> {
    const sender = createTelegramSender({ token: TOKEN, apiRoot: root });
    await Promise.all(
      pacers.flatMap((pacer) =>
        Array.from({ length: perProcess }, async () => {
          const chat = fake.createUser({ firstName: 'P' }).id;
          await pacer.acquire('low');
          await sender.send({ method: 'sendMessage', payload: { chat_id: chat, text: 'hi' } }).catch(() => undefined);
        }),
      ),
    );
  }
  const refused = () => fake.calls(TOKEN).filter((c) => c.status === 429).length;
  const accepted = () => fake.calls(TOKEN).filter((c) => c.status === 200).length;

  it('without sharing, processes at the cap each overrun the bot (the defect)', async () => {
    fake.reset();
    fake.createBot({ token: TOKEN, username: 'pacer_test_bot' });
    // Three schedules at the cap each: three times the cap offered, so even a loaded machine overruns it.
    await sendAll(['a', 'b', 'c'].map((k) => createTokenPacer({ redis: redis(), key: `${prefix}${k}`, ratePerSecond: CAP })), 40);
    expect(refused()).toBeGreaterThan(0);
  });

  it('shared in Redis, two processes together never draw a 429', async () => {
    fake.reset();
    fake.createBot({ token: TOKEN, username: 'pacer_test_bot' });
    await sendAll([createTokenPacer({ redis: redis(), key: `${prefix}shared`, ratePerSecond: CAP }), createTokenPacer({ redis: redis(), key: `${prefix}shared`, ratePerSecond: CAP })], 30);
    expect(accepted()).toBe(60);
    expect(refused()).toBe(0);
  });
});
