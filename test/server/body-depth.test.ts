/**
 * The web role's JSON webhooks (Telegram customer bot, staff bot, VK callback) against bodies
 * that carry valid credentials but must not be taken: nested far deeper than the platform
 * nests (JSON.stringify of such a body threw RangeError: a 500, or it was recorded), an
 * update_id Telegram cannot send (negative, beyond 2^53, or alone with nothing to handle).
 * Each is a 400 and leaves Redis as it was; a real update still goes through. Found by
 * `npm run bench:hostile`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { TELEGRAM_WEBHOOK_PATH } from '../../src/channels/telegram/webhook.plugin.js';
import { VK_CALLBACK_PATH } from '../../src/channels/vk/vk-customer-bot.js';
import { STAFF_WEBHOOK_PATH } from '../../src/staff/webhook.plugin.js';
import { createWeb, type Web } from '../../src/web.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { TEST_REDIS_URL } from '../support/env.js';

const TG_SECRET = 'depth-tg-secret';
const STAFF_SECRET = 'depth-staff-secret';
const VK_SECRET = 'depth-vk-secret';
const GROUP = 7031;

let ctx: TestContext;
let web: Web;
let redis: Redis;

beforeAll(async () => {
  ctx = await createTestContext({
    env: {
      TELEGRAM_BOT_TOKEN: '7000131:AAkabinet-depth-test-token-0001',
      TELEGRAM_API_ROOT: 'http://127.0.0.1:9',
      TELEGRAM_WEBHOOK_URL: 'http://127.0.0.1:9/telegram/webhook',
      TELEGRAM_WEBHOOK_SECRET: TG_SECRET,
      STAFF_BOT_TOKEN: '7000132:AAkabinet-depth-staff-token-0001',
      STAFF_CHAT_ID: '-1001',
      STAFF_WEBHOOK_URL: 'http://127.0.0.1:9/telegram/staff/webhook',
      STAFF_WEBHOOK_SECRET: STAFF_SECRET,
      VK_GROUP_ID: String(GROUP),
      VK_GROUP_TOKEN: 'depth-vk-token',
      VK_API_BASE_URL: 'http://127.0.0.1:9/method',
      VK_CALLBACK_SECRET: VK_SECRET,
      VK_CONFIRMATION_CODE: 'depth-confirm',
    },
  });
  // The web role as main.ts builds it (routes only; not started, so nothing talks to Telegram).
  web = await createWeb(ctx);
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  await web?.app.close();
  await redis?.quit();
  await ctx?.close();
});

/** Every key of this file's prefixes, with its type and length. */
async function keys(): Promise<string[]> {
  const out: string[] = [];
  for (const pattern of [`kt-${ctx.id}:*`, `{kt-${ctx.id}}*`]) {
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      out.push(...found);
    } while (cursor !== '0');
  }
  return out.sort();
}

const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
/** 100 nestings, from just past the limit to far past it (a few hundred KB). */
const depths = Array.from({ length: 100 }, (_, i) => (i < 50 ? 65 + i * 3 : 1_000 + (i - 50) * 2_000));
const deep = (i: number) => (i % 2 ? deepObject(depths[i]!) : deepArray(depths[i]!));

const post = (url: string, payload: string, headers: Record<string, string> = {}) =>
  web.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload });

describe('Telegram webhooks (customer and staff bots)', () => {
  for (const [name, url, secret] of [['customer bot', TELEGRAM_WEBHOOK_PATH, TG_SECRET], ['staff bot', STAFF_WEBHOOK_PATH, STAFF_SECRET]] as const) {
    it(`${name}: an update nested past 64 levels is a 400 and nothing is recorded`, async () => {
      const before = await keys();
      const statuses = new Set<number>();
      for (let i = 0; i < depths.length; i++) {
        const res = await post(url, `{"update_id":${1000 + i},"message":${deep(i)}}`, { 'x-telegram-bot-api-secret-token': secret });
        statuses.add(res.statusCode);
        if (res.statusCode === 400) expect(res.json()).toMatchObject({ error: 'invalid_input' });
      }
      expect([...statuses]).toEqual([400]);
      expect(await keys()).toEqual(before);
    });

    it(`${name}: an update_id Telegram cannot send, or one with nothing else, is a 400`, async () => {
      const before = await keys();
      const bodies = ['{"update_id":-1,"message":{}}', '{"update_id":18446744073709551616,"message":{}}', '{"update_id":9007199254740993,"message":{}}', '{"update_id":1e300,"message":{}}', '{"update_id":5}', '{"update_id":1e-400}', '{"update_id":-0}'];
      for (const body of bodies) {
        const res = await post(url, body, { 'x-telegram-bot-api-secret-token': secret });
        expect(res.statusCode, body).toBe(400);
      }
      expect(await keys()).toEqual(before);
    });
  }

  it('a real update nested as Telegram nests is still recorded', async () => {
    const before = await keys();
    const update = { update_id: 77, message: { message_id: 1, date: 1, chat: { id: 42, type: 'private' }, from: { id: 42, is_bot: false, first_name: 'A' }, text: 'hi', reply_to_message: { message_id: 0, date: 1, chat: { id: 42, type: 'private' }, text: 'x', entities: [{ type: 'bold', offset: 0, length: 1 }] } } };
    const res = await post(TELEGRAM_WEBHOOK_PATH, JSON.stringify(update), { 'x-telegram-bot-api-secret-token': TG_SECRET });
    expect(res.statusCode).toBe(200);
    expect((await keys()).length).toBeGreaterThan(before.length);
  });
});

describe('VK callback', () => {
  it('a signed event nested past 256 levels is a 400 and nothing is recorded', async () => {
    const before = await keys();
    const statuses = new Set<number>();
    for (let i = 0; i < depths.length; i++) {
      // Within the 256 KiB cap: a deep object is 6 bytes a level.
      const depth = Math.min(Math.max(depths[i]!, 260), 40_000);
      const inner = i % 2 ? deepObject(depth) : `{"message":${deepArray(depth)}}`;
      const res = await post(VK_CALLBACK_PATH, `{"type":"message_new","group_id":${GROUP},"event_id":"deep${i}","secret":"${VK_SECRET}","object":${inner}}`);
      statuses.add(res.statusCode);
    }
    expect([...statuses]).toEqual([400]);
    expect(await keys()).toEqual(before);
  });

  it('a signed event as VK nests it (forwards inside forwards) is still recorded', async () => {
    const before = await keys();
    let message: Record<string, unknown> = { from_id: 5, peer_id: 5, text: 'fwd', date: 1, conversation_message_id: 1 };
    for (let i = 0; i < 40; i++) message = { from_id: 5, text: `level ${i}`, date: 1, fwd_messages: [message] };
    const event = { type: 'message_new', group_id: GROUP, event_id: 'nested-ok', secret: VK_SECRET, object: { message: { ...message, peer_id: 5, conversation_message_id: 2 } } };
    const res = await post(VK_CALLBACK_PATH, JSON.stringify(event));
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('ok');
    expect((await keys()).length).toBeGreaterThan(before.length);
  });
});
