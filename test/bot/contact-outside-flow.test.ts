/**
 * A contact that arrives when no login flow is waiting for it (an old "share phone" button
 * after a restart, or a flow that expired): the same rules as the flow, end to end through
 * the webhook and the fake Telegram. And free text that is an order number.
 */
import { describe, expect, it } from 'vitest';
import { menuCb } from '../../src/bot/keyboards/index.js';
import { createCustomer, createOrder, createProduct } from '../support/factories.js';
import { person, useHarness } from './harness.js';

const harness = useHarness();

const identityOf = (userId: number) => harness().ctx.prisma.channelIdentity.findUniqueOrThrow({ where: { platform_externalId: { platform: 'telegram', externalId: String(userId) } } });

describe('a contact outside the login flow', () => {
  it('logs a guest in with their own contact and resumes the deep-linked order', async () => {
    const customer = await createCustomer(harness().ctx.prisma, { phone: '+79165550101' });
    const product = await createProduct(harness().ctx.prisma, { name: 'Чай' });
    await createOrder(harness().ctx.prisma, customer.id, { number: 'CF-1', items: [{ product, quantity: 1, price: 100 }] });
    const ira = person(harness(), { firstName: 'Ira' });
    await ira.start('order_CF-1');
    expect(ira.lastText()).toContain('доступен после входа');

    // No flow is running: the old share button is tapped anyway.
    await ira.shareContact({ phone: '79165550101', firstName: 'Ira' });
    expect((await identityOf(ira.user.id)).customerId).toBe(customer.id);
    expect(ira.botTexts().some((t) => t.includes('вы вошли'))).toBe(true);
    expect(ira.lastText()).toContain('Заказ №CF-1');
    expect(ira.botTexts().join('\n')).not.toContain('Я понимаю кнопки меню');
    const success = [...ira.chat()].reverse().find((m) => m.direction === 'out' && m.text?.includes('вы вошли'))!;
    expect(success.replyMarkup).toEqual({ remove_keyboard: true });
  });

  it('refuses someone else\'s contact or one without user_id, links nothing and offers the share button', async () => {
    await createCustomer(harness().ctx.prisma, { phone: '+79165550202' });
    const oleg = person(harness(), { firstName: 'Oleg' });
    await oleg.say('/start');
    await oleg.shareContact({ phone: '+79165550202', firstName: 'Victim', userId: oleg.user.id + 1 });
    expect(oleg.botTexts().at(-2)).toContain('Это не ваш контакт');
    expect(JSON.stringify([...oleg.chat()].at(-1)!.replyMarkup)).toContain('"request_contact":true');
    await oleg.say('/start');
    await oleg.shareContact({ phone: '+79165550202', firstName: 'Typed', userId: undefined });
    expect(oleg.botTexts().at(-2)).toContain('Это не ваш контакт');
    expect((await identityOf(oleg.user.id)).customerId).toBeNull();
  });

  it('tells a logged-in customer they are in and changes nothing', async () => {
    const mine = await createCustomer(harness().ctx.prisma, { phone: '+79165550303' });
    const other = await createCustomer(harness().ctx.prisma, { phone: '+79165550304' });
    const pavel = person(harness(), { firstName: 'Pavel' });
    await pavel.say('/start');
    await pavel.press(menuCb.encode('login'));
    await pavel.shareContact({ phone: '+79165550303', firstName: 'Pavel' });
    expect((await identityOf(pavel.user.id)).customerId).toBe(mine.id);

    await pavel.shareContact({ phone: '+79165550304', firstName: 'Pavel' });
    expect(pavel.botTexts()).toContain('Вы уже вошли.');
    expect(pavel.lastText()).toContain('Личный кабинет');
    expect((await identityOf(pavel.user.id)).customerId).toBe(mine.id);
    expect(await harness().ctx.prisma.channelIdentity.count({ where: { customerId: other.id } })).toBe(0);
  });
});

describe('free text outside a flow', () => {
  it('one of the customer\'s order numbers opens that order; anyone else\'s gets the menu hint', async () => {
    const h = harness();
    const phone = '+79165550404';
    const customer = await createCustomer(h.ctx.prisma, { phone });
    const victim = await createCustomer(h.ctx.prisma, { phone: '+79165550405' });
    const product = await createProduct(h.ctx.prisma, { name: 'Чай' });
    await createOrder(h.ctx.prisma, customer.id, { number: 'FT-100023', items: [{ product, quantity: 1, price: 100 }] });
    await createOrder(h.ctx.prisma, victim.id, { number: 'FT-100024', items: [{ product, quantity: 1, price: 100 }] });
    const p = person(h, { firstName: 'Fedor' });
    await p.say('/start');
    await p.say('FT-100023');
    expect(p.lastText()).toContain('Я понимаю кнопки меню');
    await p.press(menuCb.encode('login'));
    await p.shareContact({ phone, firstName: 'Fedor' });
    await p.say('заказ №FT-100023');
    expect(p.lastText()).toContain('Заказ №FT-100023');
    await p.say('FT-100024');
    expect(p.lastText()).toContain('Я понимаю кнопки меню');
    await p.say('привет');
    expect(p.lastText()).toContain('Я понимаю кнопки меню');
  });
});
