/**
 * `npm run dev` (src/main.ts all) runs the web role and the worker role in one process. They
 * share one set of customer channels, so a webhook update for an idle chat is recorded and
 * claimed for this process's consumer in the same Redis call: no wake-up published, no second
 * claim, the chat never waits in `ready`. Before, each role built its own copy of the bot and
 * its own inbound queue, and every update cost a record, a published wake-up and a claim.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createCustomerChannels } from '../../../src/channels/customer-channels.js';
import { createFakeTelegram, type FakeTelegram } from '../../../src/fakes/telegram/index.js';
import type { TestContext } from '../../support/context.js';
import { startOneProcess, type OneProcess } from '../../support/one-process.js';
import { eventually } from '../../bot/harness.js';

const TOKEN = '7000097:AAkabinet-one-process-test';
const SECRET = 'one-process_1';

let ctx: TestContext;
let fake: FakeTelegram;
let kabinet: OneProcess;
let subscriber: Redis;
const wakeUps: string[] = [];

beforeAll(async () => {
  fake = createFakeTelegram({ rateLimits: false });
  // As src/main.ts composes `all`: the worker role first, then the web role.
  kabinet = await startOneProcess(fake, await fake.listen(), { token: TOKEN, username: 'kabinet_one_process_bot', secret: SECRET });
  ctx = kabinet.ctx;
  const inbound = createCustomerChannels(ctx).telegram!.inbound!;
  expect(inbound).toBeDefined();
  subscriber = ctx.redis.duplicate();
  subscriber.on('message', (_channel: string, from: string) => wakeUps.push(from));
  await subscriber.subscribe(`${createCustomerChannels(ctx).telegram!.customerBot.keyPrefix}in:wake`);
});
afterAll(async () => {
  await subscriber?.quit();
  await kabinet?.close();
  await fake?.close();
});

describe('the web and worker roles of one process', () => {
  it('share one customer bot and inbound queue: an update to an idle chat is recorded and claimed in one call, no wake-up, replies in order', async () => {
    const prefix = `${createCustomerChannels(ctx).telegram!.customerBot.keyPrefix}in:`;
    const users = [1, 2, 3].map((i) => fake.createUser({ firstName: `Guest${i}`, languageCode: 'ru' }));
    for (const user of users) {
      fake.sendText(TOKEN, user.id, '/start');
      fake.sendText(TOKEN, user.id, '/help');
    }
    const sent = (chatId: number) =>
      fake.calls(TOKEN).filter((c) => c.method === 'sendMessage' && Number((c.params as { chat_id?: unknown }).chat_id) === chatId).map((c) => String((c.params as { text?: unknown }).text));
    await eventually(async () => users.every((u) => sent(u.id).some((t) => t.includes('Помощь'))) && (await ctx.redis.scard(`${prefix}sched`)) === 0, 15_000);
    for (const user of users) {
      const texts = sent(user.id);
      // /start's answer (the guest menu asks to log in) before /help's.
      expect(texts.findIndex((t) => t.includes('Помощь'))).toBeGreaterThan(texts.findIndex((t) => t.includes('войдите по номеру телефона')));
    }
    // Every record found its chat idle or held by this process's consumer: nothing was put in
    // `ready` for another consumer, so nothing was published to wake one.
    await new Promise((r) => setTimeout(r, 50));
    expect(wakeUps).toEqual([]);
    expect(await ctx.redis.llen(`${prefix}ready`)).toBe(0);
    expect(createCustomerChannels(ctx)).toBe(createCustomerChannels(ctx));
  }, 60_000);

  it('cleans a NUL out of an update that went through the queue (the profile name is stored without it)', async () => {
    const user = fake.createUser({ firstName: 'Ве\u0000ра', languageCode: 'ru' });
    fake.sendText(TOKEN, user.id, '/start');
    const replied = () => fake.calls(TOKEN).some((c) => c.method === 'sendMessage' && Number((c.params as { chat_id?: unknown }).chat_id) === user.id);
    await eventually(async () => replied(), 15_000);
    const identity = await ctx.prisma.channelIdentity.findFirst({ where: { platform: 'telegram', externalId: String(user.id) } });
    expect(identity?.firstName).toBe('Вера');
  }, 30_000);
});
