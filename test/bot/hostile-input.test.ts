/**
 * Bad input through the real webhook and the fake Telegram: overlong texts, emoji and RTL
 * names, odd phone formats, forged callback data and another customer's ids. Each gets a
 * polite answer and changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { addressesCb, helpCb, menuCb, ordersCb, profileCb, wishlistCb } from '../../src/bot/keyboards/index.js';
import { createCustomer, createOrder, createProduct } from '../support/factories.js';
import { person, TOKEN, useHarness } from './harness.js';

const harness = useHarness();

let phoneSeq = 0;
const newPhone = () => `+7916777${String(1000 + ++phoneSeq).slice(-4)}`;

async function loggedIn(firstName = 'Vera', lang = 'ru') {
  const phone = newPhone();
  const customer = await createCustomer(harness().ctx.prisma, { phone, firstName: 'Вера', language: lang });
  const p = person(harness(), { firstName, languageCode: lang });
  await p.say('/start');
  await p.press(menuCb.encode('login'));
  await p.shareContact({ phone, firstName });
  return { p, customer };
}

const answerOf = (callbackQueryId: string) => String(harness().fake.callbackAnswer(TOKEN, callbackQueryId)?.text ?? '');
const everyBotTextFits = (texts: string[]) => texts.every((t) => t.length <= 4096);

describe('overlong texts', () => {
  it('a 4096-character support message, name and search query are refused with a reason; nothing is saved', async () => {
    const { p, customer } = await loggedIn();
    const huge = 'Ж'.repeat(4096);

    await p.press(helpCb.encode('show'));
    await p.press(helpCb.encode('human'));
    await p.say(huge);
    expect(p.lastText()).toBe('Сообщение слишком длинное. Сократите, пожалуйста.');
    expect(await harness().ctx.prisma.supportConversation.count({ where: { customerId: customer.id } })).toBe(0);
    await p.say('/menu');

    await p.press(profileCb.encode('show'));
    await p.press(profileCb.encode('name'));
    await p.say(huge);
    expect(p.lastText()).toContain('Имя не должно быть пустым или слишком длинным');
    expect((await harness().ctx.prisma.customer.findUniqueOrThrow({ where: { id: customer.id } })).firstName).toBe('Вера');
    await p.say('/menu');

    await p.press(wishlistCb.encode('list'));
    await p.press(wishlistCb.encode('search'));
    await p.say(huge);
    expect(p.lastText()).toContain('Слишком длинный запрос');
    expect(everyBotTextFits(p.botTexts())).toBe(true);
  });
});

describe('names with emoji, RTL marks and markup', () => {
  it('are stored as typed and shown literally, never as markup', async () => {
    const { p, customer } = await loggedIn('\u202eZoë 👩‍💻 <b>');
    await p.press(profileCb.encode('show'));
    await p.press(profileCb.encode('name'));
    await p.say('Зоя 👩‍💻 مرحبا <i>&amp;');
    const saved = await harness().ctx.prisma.customer.findUniqueOrThrow({ where: { id: customer.id } });
    expect(`${saved.firstName} ${saved.lastName}`).toBe('Зоя 👩‍💻 مرحبا <i>&amp;');
    expect(p.lastText()).toContain('Имя: Зоя 👩‍💻 مرحبا <i>&amp;');
    const identity = await harness().ctx.prisma.channelIdentity.findFirstOrThrow({ where: { externalId: String(p.user.id) } });
    expect(identity.firstName).toBe('\u202eZoë 👩‍💻 <b>');
  });
});

describe('phones in odd formats', () => {
  it('normalises a contact\'s international digits to E.164 and refuses what is not an international phone', async () => {
    const customer = await createCustomer(harness().ctx.prisma, { phone: '+79167770999' });
    const p = person(harness(), { firstName: 'Odd' });
    await p.say('/start');
    await p.press(menuCb.encode('login'));
    await p.shareContact({ phone: '12', firstName: 'Odd' });
    expect(p.lastText()).toBe('Не получилось распознать номер. Попробуйте ещё раз.');
    expect(await harness().ctx.prisma.customer.count({ where: { phone: { in: ['12', '+12'] } } })).toBe(0);
    // Telegram writes a contact internationally: a national form is refused, not guessed.
    await p.shareContact({ phone: '8 (916) 777–09–99 ', firstName: 'Odd' });
    expect(p.lastText()).toBe('Не получилось распознать номер. Попробуйте ещё раз.');
    await p.shareContact({ phone: ' 7 (916) 777–09–99 ', firstName: 'Odd' });
    const identity = await harness().ctx.prisma.channelIdentity.findFirstOrThrow({ where: { externalId: String(p.user.id) } });
    expect(identity.customerId).toBe(customer.id);
  });
});

describe('forged buttons', () => {
  it('malformed or unknown data is answered "stale" and changes nothing', async () => {
    const { p, customer } = await loggedIn();
    const before = await harness().ctx.prisma.customer.findUniqueOrThrow({ where: { id: customer.id } });
    for (const data of ['o:card:0:0', 'o:list:-1', 'o:list:9999999', 'p:language:de', 'p:notify:sms:1', 'h:topic:secret', 'a:remove:../../etc', 'o:card:00000000-0000-7000-8000-000000000000:0:extra', 'm:home:1', '💥', 'x'.repeat(64)]) {
      const update = await p.pressStale(data);
      expect(answerOf(update.callback_query!.id), data).toContain('Эта кнопка устарела');
    }
    const after = await harness().ctx.prisma.customer.findUniqueOrThrow({ where: { id: customer.id } });
    expect(after).toEqual(before);
  });

  it('another customer\'s order, address or product ids: not found, nothing read or changed', async () => {
    const { p, customer } = await loggedIn();
    const victim = await createCustomer(harness().ctx.prisma, { phone: newPhone(), firstName: 'Victim' });
    const product = await createProduct(harness().ctx.prisma, { name: 'Секретный товар', stock: 5 });
    const order = await createOrder(harness().ctx.prisma, victim.id, { number: 'VICTIM-1', items: [{ product, quantity: 1, price: 100 }] });
    const address = await harness().ctx.prisma.address.create({ data: { customerId: victim.id, city: 'Москва', street: 'Тверская', house: '1', isDefault: false } });

    for (const data of [
      ordersCb.encode('card', { id: order.id, page: 0 }),
      ordersCb.encode('track', { id: order.id, page: 0 }),
      ordersCb.encode('repeat', { id: order.id, page: 0 }),
      ordersCb.encode('cart', { id: order.id }),
      addressesCb.encode('item', { id: address.id }),
      addressesCb.encode('removeConfirm', { id: address.id }),
      addressesCb.encode('makeDefault', { id: address.id }),
    ]) {
      const update = await p.pressStale(data);
      expect(answerOf(update.callback_query!.id), data).toBe('Не нашли то, что вы ищете.');
      expect(p.lastText(), data).not.toContain('VICTIM-1');
    }
    await p.pressStale(addressesCb.encode('edit', { id: address.id }));
    expect(p.lastText()).toBe('Адрес не найден.');
    await p.say('Самара');
    expect(await harness().ctx.prisma.address.findUniqueOrThrow({ where: { id: address.id } })).toMatchObject({ city: 'Москва', isDefault: false, customerId: victim.id });
    expect(await harness().ctx.prisma.repeatOrderRequest.count({ where: { orderId: order.id } })).toBe(0);
    expect(await harness().ctx.prisma.outboxEvent.count({ where: { payload: { path: ['addressId'], equals: address.id } } })).toBe(0);

    // Removing a product one never added touches nobody's wishlist.
    await harness().ctx.prisma.wishlistItem.create({ data: { customerId: victim.id, productId: product.id, priceAtAdd: '100' } });
    await p.pressStale(wishlistCb.encode('remove', { id: product.id }));
    expect(await harness().ctx.prisma.wishlistItem.count({ where: { customerId: victim.id } })).toBe(1);
    expect(await harness().ctx.prisma.wishlistItem.count({ where: { customerId: customer.id } })).toBe(0);
  });
});

describe('limits', () => {
  it('an eleventh address is refused before any question is asked', async () => {
    const h = harness();
    const { p, customer } = await loggedIn();
    for (let i = 0; i < 10; i++) await h.ctx.prisma.address.create({ data: { customerId: customer.id, city: 'Москва', street: 'Тверская', house: String(i + 1) } });
    await p.press(profileCb.encode('show'));
    await p.press(addressesCb.encode('list'));
    const update = await p.press(addressesCb.encode('add'));
    expect(answerOf(update.callback_query!.id)).toBe('Можно сохранить не больше 10 адресов.');
    await p.say('Самара');
    expect(p.lastText()).toContain('Я понимаю кнопки меню');
    expect(await h.ctx.prisma.address.count({ where: { customerId: customer.id } })).toBe(10);
  });
});
