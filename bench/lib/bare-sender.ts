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
import { createTokenPacer, sendAtSlots } from '../../src/channels/token-pacer.js';

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

let failed = 0;
const chats = Array.from({ length: count }, (_, i) => firstChat + i);
// The same pacing loop as a Telegram broadcast chunk (sendAtSlots), without database or rendering.
await sendAtSlots(pacer, chats, 'low', async (chat) => {
  await sender.send({ method: 'sendMessage', payload: { chat_id: chat, text: 'Скидка 20%' } }).catch(() => {
    failed += 1;
  });
});
await redis.quit();
if (failed > 0) console.error(`bare-sender: ${failed} sends refused`);
process.exit(0);
