import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { menuCb, ordersCb, profileCb, wishlistCb, addressesCb, loyaltyCb, helpCb } from '../../src/bot/keyboards/index.js';
import { createCustomer, createOrder, createProduct } from '../support/factories.js';
import { CART_TEMPLATE, createHarness, person, type Harness } from './harness.js';

let h: Harness;

beforeAll(async () => {
  h = await createHarness();
  await h.startInstance();
});
afterAll(async () => {
  await h?.close();
});

describe('customer bot: start and login', () => {
  it('greets a newcomer with the guest menu in their Telegram language, HTML-escaped', async () => {
    const anna = person(h, { firstName: 'Anna', languageCode: 'ru' });
    await anna.say('/start');
    expect(anna.lastText()).toContain('Shop <&> Co');
    expect(anna.lastText()).toContain('войдите по номеру телефона');
    expect(anna.lastButtons().map((b) => b.callback_data)).toContain(menuCb.encode('login'));
    const identity = await h.ctx.prisma.channelIdentity.findUniqueOrThrow({ where: { platform_externalId: { platform: 'telegram', externalId: String(anna.user.id) } } });
    expect(identity).toMatchObject({ customerId: null, languageCode: 'ru', chatId: String(anna.user.id) });
  });

  it('asks for login on account screens, refuses someone else\'s contact, accepts one\'s own and links the shop customer', async () => {
    const existing = await createCustomer(h.ctx.prisma, { phone: '+79161234567', firstName: 'Борис' });
    const boris = person(h, { firstName: 'Boris', languageCode: 'ru' });
    await boris.say('/start');
    await boris.press(ordersCb.encode('list', { page: 0 }));
    expect(boris.lastText()).toContain('доступен после входа');

    await boris.press(menuCb.encode('login'));
    const prompt = [...boris.chat()].reverse().find((m) => m.direction === 'out')!;
    expect(JSON.stringify(prompt.replyMarkup)).toContain('"request_contact":true');

    await boris.shareContact({ phone: '+79990000001', firstName: 'Stranger', userId: boris.user.id + 1000 });
    expect(boris.lastText()).toContain('Это не ваш контакт');
    await boris.shareContact({ phone: '+79990000002', firstName: 'Typed', userId: undefined });
    expect(boris.lastText()).toContain('Это не ваш контакт');
    expect((await h.ctx.prisma.channelIdentity.findFirstOrThrow({ where: { externalId: String(boris.user.id) } })).customerId).toBeNull();

    await boris.shareContact({ phone: '8 (916) 123-45-67', firstName: 'Boris' });
    const identity = await h.ctx.prisma.channelIdentity.findFirstOrThrow({ where: { externalId: String(boris.user.id) } });
    expect(identity.customerId).toBe(existing.id);
    expect(boris.botTexts().some((t) => t.includes('вы вошли'))).toBe(true);
    expect(boris.lastText()).toContain('Личный кабинет');
    expect(await h.ctx.prisma.customer.count({ where: { phone: '+79161234567' } })).toBe(1);
  });
});
