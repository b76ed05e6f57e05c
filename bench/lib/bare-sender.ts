/**
 * The broadcast benchmark's baseline: one process that sends COUNT Telegram messages through
 * the same sender (createTelegramSender, allow_paid_broadcast) at slots of the same shared
 * token pacer Kabinet's workers use, with no database, no queue and no rendering. Run twice
 * side by side, it is the ceiling of the transport, the pacer and the fake on this machine.
 *
 *   env: BARE_API_ROOT, BARE_TOKEN, BARE_REDIS_URL, BARE_PACER_KEY, BARE_RATE, BARE_COUNT,
 *        BARE_FIRST_CHAT (chat ids BARE_FIRST_CHAT + i, i < COUNT), BARE_PAID (true|false)
 */
import { Redis } from 'ioredis';
import { createTelegramSender } from '../../src/channels/telegram-sender.js';
import { createTokenPacer } from '../../src/channels/token-pacer.js';

const env = (name: string): string => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`bare-sender: ${name} is required`);
  return v;
};

const redis = new Redis(env('BARE_REDIS_URL'));
const pacer = createTokenPacer({ redis, key: env('BARE_PACER_KEY'), ratePerSecond: Number(env('BARE_RATE')) });
const sender = createTelegramSender({ token: env('BARE_TOKEN'), apiRoot: env('BARE_API_ROOT'), paidBroadcast: env('BARE_PAID') === 'true' });
const count = Number(env('BARE_COUNT'));
const firstChat = Number(env('BARE_FIRST_CHAT'));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let next = 0;
let failed = 0;
const inFlight = new Set<Promise<void>>();
while (next < count) {
  const grant = await pacer.reserve(count - next, 'low');
  if (grant.count === 0) {
    await sleep(Math.min(grant.waitMs, 100));
    continue;
  }
  const base = Date.now() + grant.firstInMs;
  for (let i = 0; i < grant.count; i++) {
    const chat = firstChat + next++;
    const at = base + i * grant.spacingMs;
    const p: Promise<void> = (async () => {
      const wait = at - Date.now();
      if (wait >= 1) await sleep(wait);
      await sender.send({ method: 'sendMessage', payload: { chat_id: chat, text: 'Скидка 20%' } }).catch(() => {
        failed += 1;
      });
    })().finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
}
await Promise.all(inFlight);
await redis.quit();
if (failed > 0) console.error(`bare-sender: ${failed} sends refused`);
process.exit(0);
