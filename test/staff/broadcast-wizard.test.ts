/**
 * The admins' broadcast wizard in the staff bot, end to end against the fake Telegram: an
 * admin goes text → button → segment → count → preview → now → confirm in a private chat with
 * the staff bot and the broadcast exists and sends; scheduling; a non-admin is refused; cancel
 * at a step; old buttons and bad input answered; the state lives in Redis with a TTL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TgUser } from '../../src/fakes/telegram/index.js';
import { eventually } from '../bot/harness.js';
import { createStaffWorld, STAFF_TOKEN, type StaffWorld } from './world.js';

let w: StaffWorld;
beforeAll(async () => {
  w = await createStaffWorld({ env: { STAFF_GROUP_RATE_LIMIT: '1000' } });
  // Three consenting Telegram customers, one without consent, one VK customer.
  let n = 0;
  for (const shape of [
    { platform: 'telegram', consent: true },
    { platform: 'telegram', consent: true },
    { platform: 'telegram', consent: true },
    { platform: 'telegram', consent: false },
    { platform: 'vk', consent: true },
  ] as const) {
    n++;
    const c = await w.ctx.prisma.customer.create({ data: { phone: `+7966000000${n}`, firstName: `C${n}`, language: 'ru', marketingConsent: shape.consent, notifyPromotions: true } });
    const chatId = shape.platform === 'telegram' ? w.tg.createUser({ firstName: `C${n}` }).id : w.vk.createUser({ firstName: `C${n}` }).id;
    await w.ctx.prisma.channelIdentity.create({ data: { platform: shape.platform, externalId: String(chatId), chatId: String(chatId), customerId: c.id, linkedAt: new Date(), lastSeenAt: new Date() } });
  }
}, 60_000);
afterAll(async () => {
  await w?.close();
});

type Buttons = Array<{ text: string; callback_data?: string; url?: string }>;
const buttonsOf = (m: { replyMarkup?: unknown }) => ((m.replyMarkup as { inline_keyboard?: Buttons[] } | undefined)?.inline_keyboard ?? []).flat();
const privateLog = (user: TgUser) => w.tg.chat(STAFF_TOKEN, user.id).filter((m) => m.direction === 'out');
const last = (user: TgUser) => privateLog(user).at(-1)!;

async function say(user: TgUser, text: string) {
  w.tg.sendText(STAFF_TOKEN, user.id, text);
  await w.settleStaff();
}

/** Presses the button labelled `label` on the bot's last message in the private chat. */
async function press(user: TgUser, label: string | RegExp) {
  const m = last(user);
  const b = buttonsOf(m).find((x) => (typeof label === 'string' ? x.text === label : label.test(x.text)));
  if (!b?.callback_data) throw new Error(`no button ${String(label)} on: ${m.text} [${buttonsOf(m).map((x) => x.text).join(', ')}]`);
  w.tg.pressButton(STAFF_TOKEN, user.id, m.messageId, b.callback_data);
  await w.settleStaff();
  return b.callback_data;
}

const wizardKey = (user: TgUser) => `${w.ctx.config.redisKeyPrefix}staffbot:bcwizard:${user.id}`;

describe('the broadcast wizard in the staff bot', () => {
  it('takes an admin from the title to a started broadcast, with the count and a preview on the way', async () => {
    const { alla } = w;
    await say(alla, '/broadcast');
    expect(last(alla).text).toContain('Новая рассылка');
    // The state is in Redis with a TTL, not in the process.
    expect(await w.ctx.redis.ttl(wizardKey(alla))).toBeGreaterThan(0);

    await say(alla, 'Зимняя распродажа');
    await press(alla, 'Текст');
    await say(alla, 'Привет, {firstName}! Скидка 20%');
    await say(alla, 'Hi {firstName}! 20% off');
    await say(alla, 'В магазин | Shop | https://shop.test/sale');
    await press(alla, 'Только Telegram');
    // Counted: the three consenting Telegram customers.
    const audience = privateLog(alla).find((m) => (m.text ?? '').startsWith('Получат'))!;
    expect(audience.text).toContain('Получат: 3');
    await press(alla, 'Дальше');
    // The preview, as a customer gets it, in each language, with the link button.
    const previews = privateLog(alla).filter((m) => (m.text ?? '').includes('20%'));
    expect(previews.map((m) => m.text)).toEqual(['Привет, Alla! Скидка 20%', 'Hi Alla! 20% off']);
    expect(buttonsOf(previews[0]!)).toEqual([{ text: 'В магазин', url: 'https://shop.test/sale' }]);
    expect(last(alla).text).toContain('Предпросмотр');
    await press(alla, 'Сейчас');
    expect(last(alla).text).toContain('3');
    const confirm = await press(alla, 'Подтвердить');
    expect(last(alla).text).toContain('Рассылка запущена');
    expect(await w.ctx.redis.exists(wizardKey(alla))).toBe(0);

    const b = await w.ctx.prisma.broadcast.findFirstOrThrow({ where: { title: 'Зимняя распродажа' } });
    const admin = await w.ctx.prisma.staffMember.findUniqueOrThrow({ where: { telegramUserId: String(alla.id) } });
    expect(b).toMatchObject({ status: 'sending', createdById: admin.id, text: { ru: 'Привет, {firstName}! Скидка 20%', en: 'Hi {firstName}! 20% off' }, segment: { platforms: ['telegram'] } });
    expect(await w.ctx.prisma.broadcastDelivery.count({ where: { broadcastId: b.id } })).toBe(3);

    // Confirm pressed again on the old message: no second broadcast.
    w.tg.pressButton(STAFF_TOKEN, alla.id, privateLog(alla).find((m) => buttonsOf(m).some((x) => x.callback_data === confirm))?.messageId ?? last(alla).messageId, confirm, { force: true });
    await w.settleStaff();
    expect(await w.ctx.prisma.broadcast.count({ where: { title: 'Зимняя распродажа' } })).toBe(1);
  });

  it('schedules a picture broadcast for a time, and answers bad input by asking again', async () => {
    const { alla } = w;
    await say(alla, '/broadcast');
    await say(alla, 'Фото-акция');
    await press(alla, 'Картинка');
    // A file sent to the bot is not a picture customers can get on both platforms.
    w.tg.sendPhoto(STAFF_TOKEN, alla.id, { data: Buffer.from('jpeg') });
    await w.settleStaff();
    expect(last(alla).text).toContain('ссылку на картинку');
    await say(alla, 'https://cdn.test/promo.jpg');
    await say(alla, 'Только сегодня, {firstName}');
    await press(alla, /Пропустить/);
    await press(alla, 'Без кнопки');
    await say(alla, '{"platforms":["telegram"],"tiers":');
    expect(last(alla).text).toContain('Условия не подходят');
    await say(alla, '{"platforms":["telegram"]}');
    await press(alla, 'Дальше');
    await press(alla, 'Позже');
    await say(alla, 'завтра');
    expect(last(alla).text).toContain('2026-12-24 10:00');
    await say(alla, '2099-12-24 10:00');
    // Confirm pressed twice at once (a double tap): one broadcast.
    const m = last(alla);
    const confirm = buttonsOf(m).find((x) => x.text === 'Подтвердить')!.callback_data!;
    w.tg.pressButton(STAFF_TOKEN, alla.id, m.messageId, confirm);
    w.tg.pressButton(STAFF_TOKEN, alla.id, m.messageId, confirm, { force: true });
    await w.settleStaff();
    expect(await w.ctx.prisma.broadcast.count({ where: { title: 'Фото-акция' } })).toBe(1);
    const b = await w.ctx.prisma.broadcast.findFirstOrThrow({ where: { title: 'Фото-акция' } });
    expect(b).toMatchObject({ status: 'scheduled', imageUrl: 'https://cdn.test/promo.jpg', text: { ru: 'Только сегодня, {firstName}' } });
    // Europe/Moscow by default: 10:00 there is 07:00 UTC.
    expect(b.scheduledAt?.toISOString()).toBe('2099-12-24T07:00:00.000Z');
    expect(last(alla).text).toContain('запланирована');
  });

  it('refuses an operator who is not an admin', async () => {
    const { olga } = w;
    const before = await w.ctx.prisma.broadcast.count();
    await say(olga, '/broadcast');
    expect(last(olga).text).toBe('Рассылки доступны только администраторам.');
    expect(await w.ctx.redis.exists(wizardKey(olga))).toBe(0);
    await say(olga, 'Акция');
    expect(await w.ctx.prisma.broadcast.count()).toBe(before);
  });

  it('cancels at any step with the button or /cancel, and old buttons then do nothing', async () => {
    const { alla } = w;
    await say(alla, '/broadcast');
    await say(alla, 'Отменяемая');
    await press(alla, 'Текст');
    await say(alla, 'Текст акции');
    const stale = last(alla);
    await press(alla, 'Отмена');
    expect(last(alla).text).toContain('Рассылка отменена');
    expect(await w.ctx.redis.exists(wizardKey(alla))).toBe(0);
    // A button of the cancelled run: answered, nothing happens.
    const calls = w.tg.calls(STAFF_TOKEN).length;
    w.tg.pressButton(STAFF_TOKEN, alla.id, stale.messageId, buttonsOf(stale)[0]!.callback_data!, { force: true });
    await w.settleStaff();
    expect(w.tg.calls(STAFF_TOKEN).slice(calls).some((c) => c.method === 'sendMessage')).toBe(false);

    await say(alla, '/broadcast');
    await say(alla, 'Ещё одна');
    await say(alla, '/cancel');
    expect(last(alla).text).toContain('Рассылка отменена');
    await eventually(async () => (await w.ctx.redis.exists(wizardKey(alla))) === 0);
    expect(await w.ctx.prisma.broadcast.count({ where: { title: { in: ['Отменяемая', 'Ещё одна'] } } })).toBe(0);
  });

  it('in a staff group points an admin to the private chat and refuses an operator', async () => {
    w.tg.sendText(STAFF_TOKEN, w.alla.id, '/broadcast', { chatId: w.groups[0]! });
    await eventually(() => w.topicLog(w.groups[0]!).some((m) => m.direction === 'out' && (m.text ?? '').includes('в личном чате') && (m.text ?? '').includes('@kabinet_staff_bot')));
    w.tg.sendText(STAFF_TOKEN, w.boris.id, '/broadcast', { chatId: w.groups[0]! });
    await eventually(() => w.topicLog(w.groups[0]!).some((m) => m.direction === 'out' && m.text === 'Рассылки доступны только администраторам.'));
    expect(await w.ctx.redis.exists(wizardKey(w.alla))).toBe(0);
  });
});
