import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { APIError, type VK } from 'vk-io';
import { createFakeVk, type FakeVk } from '../../../src/fakes/vk/index.js';
import { startReceiver, vkFor, type Receiver } from './support.js';

const GROUP = 2002;
const TOKEN = 'group-token-2002';
const CODE = 'conf-2002';
const USER = 777;

let clock = 1_700_000_000_000;
let fake: FakeVk;
let receiver: Receiver;
let vk: VK;

beforeAll(async () => {
  fake = createFakeVk({ now: () => clock, callback: { retryDelaysMs: [5, 10, 20] } });
  await fake.listen();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(async () => {
  fake.reset({ full: true });
  receiver = await startReceiver(CODE);
  fake.createGroup({ id: GROUP, token: TOKEN, confirmationCode: CODE, secret: 'topsecret' });
  fake.createUser({ id: USER, firstName: 'Maria', langId: 3 });
  vk = vkFor(fake, TOKEN);
});
afterEach(async () => {
  fake.reset();
  await receiver.close();
});

describe('Callback API delivery', () => {
  it('refuses an endpoint that does not answer the confirmation code', async () => {
    const wrong = await startReceiver('something else');
    try {
      await expect(fake.setCallbackUrl(GROUP, wrong.url)).rejects.toThrow(/confirmation code/);
      expect(fake.deliveryState(GROUP).confirmed).toBe(false);
    } finally {
      await wrong.close();
    }
  });

  it('confirms, then posts message_new with secret, v and a real-shaped object', async () => {
    await fake.setCallbackUrl(GROUP, receiver.url);
    const sent = fake.sendText(GROUP, USER, 'hello', { payload: { cmd: 'start' } });
    await sent.delivered;
    expect(receiver.requests).toHaveLength(1);
    const body = receiver.requests[0]?.body;
    expect(body).toEqual({
      type: 'message_new',
      group_id: GROUP,
      event_id: expect.stringMatching(/^[0-9a-f]{40}$/),
      v: '5.199',
      secret: 'topsecret',
      object: {
        message: expect.objectContaining({
          id: sent.result.id,
          date: Math.floor(clock / 1000),
          peer_id: USER,
          from_id: USER,
          text: 'hello',
          conversation_message_id: 1,
          out: 0,
          payload: '{"cmd":"start"}',
          attachments: [],
          fwd_messages: [],
          important: false,
          is_hidden: false,
        }),
        client_info: expect.objectContaining({ keyboard: true, inline_keyboard: true, carousel: true, lang_id: 3 }),
      },
    });
    expect((body?.object as { client_info: { button_actions: string[] } }).client_info.button_actions).toContain('callback');
  });

  it('vk-io understands the events: MessageContext text and payload, reply through context.send', async () => {
    await fake.setCallbackUrl(GROUP, receiver.url);
    vk.updates.on('message_new', async (context) => {
      await context.send(`echo ${context.text ?? ''} ${JSON.stringify(context.messagePayload)}`);
    });
    receiver.respond = async (req) => {
      await vk.updates.handleWebhookUpdate(req.body as never);
      return { body: 'ok' };
    };
    await fake.sendText(GROUP, USER, 'hi', { payload: { a: 1 } }).delivered;
    expect(fake.lastBotMessage(GROUP, USER)?.text).toBe('echo hi {"a":1}');
  });

  it('holds events until the endpoint is confirmed', async () => {
    const early = fake.sendText(GROUP, USER, 'before');
    expect(fake.deliveryState(GROUP).pending).toBe(1);
    await fake.setCallbackUrl(GROUP, receiver.url);
    await early.delivered;
    expect(receiver.requests.map((r) => (r.body.object as { message: { text: string } }).message.text)).toEqual(['before']);
  });

  it('retries the same event_id with X-Retry-Counter until "ok"', async () => {
    await fake.setCallbackUrl(GROUP, receiver.url);
    let answers = 0;
    receiver.respond = () => {
      answers += 1;
      if (answers === 1) return { status: 500, body: 'error' };
      if (answers === 2) return { body: 'OK!' };
      return { body: 'ok' };
    };
    await fake.sendText(GROUP, USER, 'retry me').delivered;
    expect(receiver.requests).toHaveLength(3);
    const ids = new Set(receiver.requests.map((r) => r.body.event_id));
    expect(ids.size).toBe(1);
    expect(receiver.requests.map((r) => r.headers['x-retry-counter'])).toEqual([undefined, '1', '2']);
    expect(fake.deliveries(GROUP).map((d) => d.ok)).toEqual([false, false, true]);
  });

  it('pauses after the retries run out, keeps the event and resumes on demand', async () => {
    await fake.setCallbackUrl(GROUP, receiver.url);
    receiver.respond = () => ({ status: 502, body: 'bad gateway' });
    const first = fake.sendText(GROUP, USER, 'one');
    await fake.waitFor(() => fake.deliveryState(GROUP).paused);
    expect(receiver.requests).toHaveLength(4); // first try + 3 retries
    const second = fake.sendText(GROUP, USER, 'two');
    expect(fake.deliveryState(GROUP)).toMatchObject({ paused: true, pending: 2 });
    receiver.respond = () => ({ body: 'ok' });
    fake.resumeDelivery(GROUP);
    await Promise.all([first.delivered, second.delivered]);
    const texts = receiver.requests.map((r) => (r.body.object as { message: { text: string } }).message.text);
    expect(texts.slice(4)).toEqual(['one', 'two']);
    expect(receiver.requests[4]?.headers['x-retry-counter']).toBe('4');
  });

  it("delivers one peer's events in order even when the endpoint answers out of order", async () => {
    await fake.setCallbackUrl(GROUP, receiver.url);
    // The first event is answered last: a parallel deliverer would let the others overtake it.
    let slowRelease: (() => void) | undefined;
    receiver.respond = (req) => {
      const text = (req.body.object as { message: { text: string } }).message.text;
      if (text === 'm0') return new Promise((resolve) => (slowRelease = () => resolve({ body: 'ok' })));
      return { body: 'ok' };
    };
    const actions = Array.from({ length: 5 }, (_, i) => fake.sendText(GROUP, USER, `m${i}`));
    const other = fake.sendText(GROUP, 778, 'other peer');
    await other.delivered;
    expect(receiver.requests.map((r) => (r.body.object as { message: { text: string } }).message.text)).toEqual(['m0', 'other peer']);
    slowRelease?.();
    await Promise.all(actions.map((a) => a.delivered));
    const mine = receiver.requests
      .map((r) => r.body.object as { message: { text: string; peer_id: number } })
      .filter((o) => o.message.peer_id === USER)
      .map((o) => o.message.text);
    expect(mine).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
  });
});

describe('callback buttons and permissions', () => {
  it('message_event → sendMessageEventAnswer, once, within 60 s', async () => {
    await fake.setCallbackUrl(GROUP, receiver.url);
    const press = fake.pressCallback(GROUP, USER, 3, '{"order":42}');
    await press.delivered;
    expect(receiver.requests[0]?.body).toMatchObject({
      type: 'message_event',
      object: { user_id: USER, peer_id: USER, event_id: press.result.eventId, payload: { order: 42 }, conversation_message_id: 3 },
    });
    const answer = { event_id: press.result.eventId, user_id: USER, peer_id: USER };
    await vk.api.messages.sendMessageEventAnswer({ ...answer, event_data: JSON.stringify({ type: 'show_snackbar', text: 'Done' }) });
    expect(fake.conversation(GROUP, USER).eventAnswers).toEqual([
      expect.objectContaining({ eventId: press.result.eventId, eventData: { type: 'show_snackbar', text: 'Done' } }),
    ]);
    const twice = await vk.api.messages.sendMessageEventAnswer(answer).catch((e: unknown) => e);
    expect(twice).toBeInstanceOf(APIError);
    expect((twice as APIError).code).toBe(100);

    const late = fake.pressCallback(GROUP, USER, 3, { order: 43 });
    clock += 61_000;
    const expired = await vk.api.messages
      .sendMessageEventAnswer({ event_id: late.result.eventId, user_id: USER, peer_id: USER })
      .catch((e: unknown) => e);
    expect((expired as APIError).code).toBe(100);
  });

  it('message_deny / message_allow events change what messages.send may do', async () => {
    await fake.setCallbackUrl(GROUP, receiver.url);
    await fake.denyMessages(GROUP, USER).delivered;
    const denied = await vk.api.messages.send({ peer_id: USER, random_id: 1, message: 'x' }).catch((e: unknown) => e);
    expect((denied as APIError).code).toBe(901);
    await fake.allowMessages(GROUP, USER, 'promo').delivered;
    await vk.api.messages.send({ peer_id: USER, random_id: 2, message: 'x' });
    expect(receiver.requests.map((r) => [r.body.type, r.body.object])).toEqual([
      ['message_deny', { user_id: USER }],
      ['message_allow', { user_id: USER, key: 'promo' }],
    ]);
  });

  it('streams conversation changes and waits for calls without polling', async () => {
    const seen: string[] = [];
    const off = fake.onConversationMessage((c) => seen.push(`${c.kind}:${c.message.text}`));
    const waiting = fake.waitForCalls('messages.send', 2);
    await vk.api.messages.send({ peer_id: USER, random_id: 1, message: 'a' });
    await vk.api.messages.send({ peer_id: USER, random_id: 2, message: 'b' });
    const calls = await waiting;
    expect(calls.map((c) => c.params.message)).toEqual(['a', 'b']);
    off();
    await vk.api.messages.send({ peer_id: USER, random_id: 3, message: 'c' });
    expect(seen).toEqual(['new:a', 'new:b']);
    await expect(fake.waitFor(() => false, { timeoutMs: 20 })).rejects.toThrow(/timed out/);
  });
});
