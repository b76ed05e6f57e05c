/**
 * The VK Callback API route in production shape: the body is capped and an unsigned one is
 * refused without being parsed; a signed event is answered "ok" once recorded in the durable
 * inbound queue (the secret kept out of Redis), and a consumer runs the brain, peer by peer,
 * once per event_id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VK_CALLBACK_BODY_LIMIT } from '../../../src/channels/vk/callback-route.js';
import { createVkCustomerBot, VK_CALLBACK_PATH, type VkCustomerBot } from '../../../src/channels/vk/vk-customer-bot.js';
import { createFakeVk, type FakeVk } from '../../../src/fakes/vk/index.js';
import { buildApp, type App } from '../../../src/server/app.js';
import { createTestContext, type TestContext } from '../../support/context.js';
import { eventually } from '../../bot/harness.js';
import { smsOutbox } from '../../scenarios/world.js';
import { CONFIRMATION, GROUP, SECRET, TOKEN, vkClient } from './support.js';

let ctx: TestContext;
let fake: FakeVk;
let app: App;
let web: VkCustomerBot;
let consumer: VkCustomerBot | undefined;

beforeAll(async () => {
  fake = createFakeVk({ callback: { retryDelaysMs: [20, 40, 80, 160, 320], timeoutMs: 20_000 } });
  const apiBaseUrl = await fake.listen();
  fake.createGroup({ id: GROUP, token: TOKEN, confirmationCode: CONFIRMATION, secret: SECRET, name: 'Shop VK' });
  ctx = await createTestContext({ env: { VK_GROUP_TOKEN: TOKEN, VK_GROUP_ID: String(GROUP), VK_CALLBACK_SECRET: SECRET, VK_CONFIRMATION_CODE: CONFIRMATION, VK_API_BASE_URL: apiBaseUrl } });
  web = createVkCustomerBot(ctx, { vk: vkClient(fake), sms: smsOutbox() });
  app = await buildApp({ logger: ctx.logger, health: [], docs: false, plugins: [web.plugin] });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  await fake.setCallbackUrl(GROUP, `${url}${VK_CALLBACK_PATH}`);
});
afterAll(async () => {
  await consumer?.stopConsuming();
  await app?.close();
  await fake?.close();
  await ctx?.close();
});

const post = (payload: string, contentType = 'application/json') =>
  app.inject({ method: 'POST', url: VK_CALLBACK_PATH, headers: { 'content-type': contentType }, payload });
const event = (extra: Record<string, unknown>) => ({ type: 'message_new', group_id: GROUP, event_id: 'e1', v: '5.199', object: { message: { peer_id: 5, from_id: 5, conversation_message_id: 1, text: 'hi', date: 1 } }, ...extra });

describe('vk callback guards', () => {
  it('refuses an unsigned body unparsed (even one that is not JSON), and a wrong secret', async () => {
    const unsigned = await post(`{"type":"message_new","group_id":${GROUP},"object":{"text":"${'x'.repeat(2000)}"`);
    expect(unsigned.statusCode).toBe(403);
    expect(unsigned.body).toBe('forbidden');
    // The same broken body with our secret reaches the parser: 400.
    expect((await post(`{"secret":"${SECRET}","type":"message_new","object":{"text":"${'x'.repeat(2000)}"`)).statusCode).toBe(400);
    expect((await post(JSON.stringify(event({ secret: 'wrong-secret' })))).statusCode).toBe(403);
    expect((await post(JSON.stringify(event({})))).statusCode).toBe(403);
    // A secret that only appears inside the message text does not sign the event.
    const smuggled = event({ object: { message: { peer_id: 5, from_id: 5, conversation_message_id: 1, text: `"secret":"${SECRET}" ${'x'.repeat(2000)}`, date: 1 } } });
    expect((await post(JSON.stringify(smuggled))).statusCode).toBe(403);
    expect(await web.inbound!.pendingChats()).toBe(0);
  });

  it('answers the confirmation (which carries no secret) and caps the body at 256 KiB', async () => {
    const confirm = await post(JSON.stringify({ type: 'confirmation', group_id: GROUP }));
    expect(confirm.statusCode).toBe(200);
    expect(confirm.body).toBe(CONFIRMATION);
    const big = JSON.stringify(event({ secret: SECRET, padding: 'y'.repeat(VK_CALLBACK_BODY_LIMIT) }));
    expect((await post(big)).statusCode).toBe(413);
    expect((await post('type=message_new', 'application/x-www-form-urlencoded')).statusCode).toBe(415);
    expect(await web.inbound!.pendingChats()).toBe(0);
  });
});

describe('vk events through the inbound queue', () => {
  it('answers "ok" before the brain runs; a consumer then answers every person, in order, each event once', async () => {
    const people = Array.from({ length: 6 }, (_, i) => fake.createUser({ firstName: `P${i}`, langId: 0 }));
    const actions = people.flatMap((p) => [fake.sendText(GROUP, p.id, 'Начать', { payload: { command: 'start' } }), fake.sendText(GROUP, p.id, '/help')]);
    await Promise.all(actions.map((a) => a.delivered));
    // Answered, recorded, not handled: no consumer runs yet, and the secret is not stored.
    expect(fake.calls(GROUP).filter((c) => c.method === 'messages.send')).toHaveLength(0);
    expect(await web.inbound!.pendingChats()).toBe(people.length);
    const stored = await ctx.redis.keys(`${web.customerBot.keyPrefix}in:item:*`);
    expect(stored.length).toBe(actions.length);
    for (const key of stored) expect(await ctx.redis.hget(key, 'p')).not.toContain(SECRET);

    // VK repeats one event (its retry carries the same event_id): recorded once.
    const repeat = actions[0]!.event;
    expect((await post(JSON.stringify(repeat))).body).toBe('ok');

    consumer = createVkCustomerBot(ctx, { vk: vkClient(fake), sms: smsOutbox() });
    await consumer.startConsuming({ concurrency: 4 });
    await eventually(async () => (await web.inbound!.pendingChats()) === 0, 1500);
    for (const p of people) {
      const texts = fake.conversation(GROUP, p.id).messages.filter((m) => m.out).map((m) => m.text);
      expect(texts, `person ${p.id}`).toHaveLength(2);
      expect(texts[0]).toContain('войдите по номеру телефона');
      expect(texts[1]).toContain('Помощь');
    }
    // The brain ran each event under the queue's claim (the update made from the event was tied
    // to its item): no chat lock of its own, whose done-marks would be left here, and no
    // AsyncLocalStorage switched on (on Node 20 a promise hook on every promise of the process).
    expect(await ctx.redis.keys(`${web.customerBot.keyPrefix}upd:*`)).toEqual([]);
    expect(Object.getOwnPropertySymbols(Promise.resolve()).map(String)).not.toContain('Symbol(async_id_symbol)');
  }, 30_000);
});
