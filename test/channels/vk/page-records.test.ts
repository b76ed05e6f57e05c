/**
 * What the VK bridge keeps in Redis for keyboards: only what paging needs (the page
 * keyboards, never the message's text), a short TTL, one key per message (re-renders
 * overwrite it) or per chat for the persistent keyboard, and scoped to its chat.
 */
import { InlineKeyboard, Keyboard } from 'grammy';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PAGES_TTL_SECONDS } from '../../../src/channels/vk/keyboard.js';
import { createFakeVk, type FakeVk } from '../../../src/fakes/vk/index.js';
import { bridgeHarness, CONFIRMATION, GROUP, SECRET, TOKEN, type BridgeHarness } from './support.js';

const USER = 9101;
const OTHER = 9102;
let fake: FakeVk;
let h: BridgeHarness;

beforeAll(async () => {
  fake = createFakeVk();
  await fake.listen();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset({ full: true });
  fake.createGroup({ id: GROUP, token: TOKEN, confirmationCode: CONFIRMATION, secret: SECRET, name: 'Demo Shop' });
  fake.createUser({ id: USER, firstName: 'Olga' });
  fake.createUser({ id: OTHER, firstName: 'Mallory' });
  h = bridgeHarness(fake);
});
afterEach(async () => {
  await h.close();
});

const ADDRESS = 'Москва, ул. Тверская, д. 7, кв. 12';
const bigInline = (n: number, tag = '') => {
  const kb = new InlineKeyboard();
  for (let i = 0; i < n; i++) kb.text(`Пункт ${i + 1}${tag}`, `w:item:${i}`).row();
  return kb;
};
async function storedKeys(): Promise<Array<{ key: string; value: string; ttl: number }>> {
  const keys = await h.redis.keys(`${h.prefix}*`);
  const mine = [];
  for (const key of keys) mine.push({ key, value: (await h.redis.get(key)) ?? '', ttl: await h.redis.ttl(key) });
  return mine;
}
const pageKeys = async () => (await storedKeys()).filter((k) => k.key.includes(':pages:'));
const nextPage = () => JSON.parse(fake.lastBotMessage(GROUP, USER)!.keyboard!.buttons.flat().find((b) => b.label?.startsWith('▶'))!.payload!) as { vkp: string; n: number };

describe('VK keyboard page records', () => {
  it('keep no message text, live a day at most, and page turns still show the text', async () => {
    const sent = await h.bot.api.sendMessage(USER, `Доставка: ${ADDRESS}`, { reply_markup: bigInline(23) });
    const records = await pageKeys();
    expect(records).toHaveLength(1);
    expect(records[0]!.value).not.toContain('Тверская');
    expect(records[0]!.ttl).toBeGreaterThan(0);
    expect(records[0]!.ttl).toBeLessThanOrEqual(PAGES_TTL_SECONDS);
    const { vkp, n } = nextPage();
    expect(await h.bridge.turnPage({ token: vkp, page: n, peerId: USER, conversationMessageId: sent.message_id })).toBe(true);
    const message = fake.conversation(GROUP, USER).messages.find((m) => m.conversationMessageId === sent.message_id)!;
    expect(message.text).toBe(`Доставка: ${ADDRESS}`);
    expect(message.keyboard!.buttons.flat().some((b) => b.label === 'Пункт 10')).toBe(true);
  });

  it('one key per message however often it is re-rendered, one per chat for the persistent keyboard', async () => {
    const sent = await h.bot.api.sendMessage(USER, 'Избранное', { reply_markup: bigInline(23) });
    for (let i = 0; i < 5; i++) await h.bot.api.editMessageText(USER, sent.message_id, `Избранное ${i}`, { reply_markup: bigInline(23, ` v${i}`) });
    // The send's record and the message's own: not one per render.
    expect(await pageKeys()).toHaveLength(2);
    for (let i = 0; i < 4; i++) {
      const kb = new Keyboard();
      for (let b = 0; b < 60; b++) kb.text(`Кнопка ${b} ${i}`).row();
      await h.bot.api.sendMessage(USER, 'Меню', { reply_markup: kb });
    }
    expect(await pageKeys()).toHaveLength(3);
    // The latest edit's pages are what the message pages through.
    const { vkp, n } = nextPage();
    expect(vkp).toBe('keyboard');
    expect(n).toBe(1);
  });

  it("a page token pressed in another chat finds nothing", async () => {
    const sent = await h.bot.api.sendMessage(USER, `Доставка: ${ADDRESS}`, { reply_markup: bigInline(23) });
    const { vkp, n } = nextPage();
    expect(await h.bridge.turnPage({ token: vkp, page: n, peerId: OTHER, conversationMessageId: sent.message_id })).toBe(false);
    expect(fake.conversation(GROUP, OTHER).messages).toHaveLength(0);
  });

  it('long callback data rendered again and again is one key', async () => {
    const long = `x:${'q'.repeat(300)}`;
    for (let i = 0; i < 5; i++) await h.bot.api.sendMessage(USER, 'Кнопка', { reply_markup: new InlineKeyboard().text('Открыть', long) });
    expect((await storedKeys()).filter((k) => k.key.includes(':cb:'))).toHaveLength(1);
  });
});
