/**
 * The channel guarantees: a forged webhook is refused, a duplicate update is handled once,
 * a flow survives a restart, and two updates of one chat sent at once to two instances are
 * handled one at a time in arrival order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { profileCb, menuCb } from '../../src/bot/keyboards/index.js';
import { createCustomer } from '../support/factories.js';
import { createHarness, eventually, person, SECRET, TOKEN, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

const post = (url: string, body: unknown, secret = SECRET) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret }, body: JSON.stringify(body) });

const textUpdate = (updateId: number, userId: number, text: string) => ({
  update_id: updateId,
  message: {
    message_id: updateId, date: Math.floor(Date.now() / 1000), text,
    from: { id: userId, is_bot: false, first_name: 'Ivan', language_code: 'ru' },
    chat: { id: userId, type: 'private', first_name: 'Ivan' },
    ...(text.startsWith('/') ? { entities: [{ type: 'bot_command', offset: 0, length: text.split(' ')[0]!.length }] } : {}),
  },
});

describe('customer bot channel guarantees', () => {
  it('refuses a bad secret with 401 and handles nothing', async () => {
    const instance = await h.startInstance({ webhook: false });
    const user = h.fake.createUser({ firstName: 'Eve' });
    const before = h.fake.calls(TOKEN).length;
    for (const secret of ['wrong-secret', '']) {
      const response = await post(instance.url, textUpdate(900_001, user.id, '/start'), secret);
      expect(response.status).toBe(401);
    }
    expect(h.fake.calls(TOKEN).length).toBe(before);
    expect(await h.ctx.prisma.channelIdentity.count({ where: { externalId: String(user.id) } })).toBe(0);
    await instance.close();
  });

  it('handles a duplicate update_id once', async () => {
    const instance = await h.startInstance({ webhook: false });
    const user = h.fake.createUser({ firstName: 'Dan' });
    h.fake.sendText(TOKEN, user.id, 'hi'); // opens the chat in the fake so the bot may write
    const update = textUpdate(900_100, user.id, '/help');
    expect((await post(instance.url, update)).status).toBe(200);
    expect((await post(instance.url, update)).status).toBe(200);
    const sent = h.fake.calls(TOKEN).filter((c) => c.method === 'sendMessage' && Number((c.params as { chat_id?: unknown }).chat_id) === user.id);
    expect(sent.length).toBe(1);
    await instance.close();
  });

  it('continues a flow after the instance is replaced mid-conversation', async () => {
    const customer = await createCustomer(h.ctx.prisma, { phone: '+79160000301' });
    const first = await h.startInstance();
    const p = person(h, { firstName: 'Rita', languageCode: 'ru' });
    await p.say('/start');
    await p.press(menuCb.encode('login'));
    await p.shareContact({ phone: '+79160000301', firstName: 'Rita' });
    await p.press(profileCb.encode('show'));
    await p.press(profileCb.encode('email'));
    expect(p.lastText()).toContain('Напишите ваш email');
    await first.close();

    const second = await h.startInstance();
    await p.say('rita@example.org');
    expect((await h.ctx.prisma.customer.findUniqueOrThrow({ where: { id: customer.id } })).email).toBe('rita@example.org');
    expect(p.lastText()).toContain('rita@example.org');
    await second.close();
  });

  it('handles two updates of one chat sent at once to two instances one at a time, in order', async () => {
    const a = await h.startInstance({ webhook: false });
    const b = await h.startInstance({ webhook: false });
    const user = h.fake.createUser({ firstName: 'Olga' });
    h.fake.sendText(TOKEN, user.id, 'hi');

    // Hold instance A inside its handler (at its first reply) until B's update is queued.
    let reachedA!: () => void;
    const atA = new Promise<void>((r) => (reachedA = r));
    let releaseA!: () => void;
    const gate = new Promise<void>((r) => (releaseA = r));
    a.channel.customerBot.bot.api.config.use(async (prev, method, payload, signal) => {
      if (method === 'sendMessage') {
        reachedA();
        await gate;
      }
      return prev(method, payload, signal);
    });

    const first = post(a.url, textUpdate(900_200, user.id, '/help'));
    await atA;
    const second = post(b.url, textUpdate(900_201, user.id, '/menu'));
    const lock = b.channel.customerBot.chatLock;
    await eventually(async () => (await lock.queueLength(String(user.id))) === 2);
    // B is waiting behind A: nothing of B's went out.
    const outgoing = () => h.fake.calls(TOKEN).filter((c) => c.method === 'sendMessage' && Number((c.params as { chat_id?: unknown }).chat_id) === user.id);
    expect(outgoing().length).toBe(0);
    releaseA();
    const [ra, rb] = await Promise.all([first, second]);
    expect([ra.status, rb.status]).toEqual([200, 200]);
    const texts = outgoing().map((c) => String((c.params as { text?: unknown }).text));
    expect(texts.length).toBe(2);
    expect(texts[0]).toContain('Помощь');
    expect(texts[1]).toContain('войдите по номеру телефона');
    expect(await lock.queueLength(String(user.id))).toBe(0);
    await a.close();
    await b.close();
  });
});
