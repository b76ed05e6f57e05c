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

    await boris.shareContact({ phone: '79161234567', firstName: 'Boris' });
    const identity = await h.ctx.prisma.channelIdentity.findFirstOrThrow({ where: { externalId: String(boris.user.id) } });
    expect(identity.customerId).toBe(existing.id);
    expect(boris.botTexts().some((t) => t.includes('вы вошли'))).toBe(true);
    expect(boris.lastText()).toContain('Личный кабинет');
    expect(await h.ctx.prisma.customer.count({ where: { phone: '+79161234567' } })).toBe(1);
  });
});

async function loggedIn(phone: string, lang = 'ru') {
  const customer = await createCustomer(h.ctx.prisma, { phone, firstName: 'Вера', language: lang });
  const p = person(h, { firstName: 'Vera', languageCode: lang });
  await p.say('/start');
  await p.press(menuCb.encode('login'));
  await p.shareContact({ phone, firstName: 'Vera' });
  return { p, customer };
}

describe('customer bot: orders', () => {
  it('lists orders newest first with pagination, opens a card and the tracking timeline', async () => {
    const { p, customer } = await loggedIn('+79160000101');
    const product = await createProduct(h.ctx.prisma, { name: 'Чай <улун> & мёд', price: 450 });
    const orders = [];
    for (let i = 0; i < 7; i++) {
      orders.push(await createOrder(h.ctx.prisma, customer.id, { number: `N-${100 + i}`, placedAt: new Date(Date.UTC(2026, 0, 1 + i)), items: [{ product, quantity: 2, price: 450 }] }));
    }
    const shipped = await createOrder(h.ctx.prisma, customer.id, {
      number: 'N-200', status: 'shipped', placedAt: new Date(Date.UTC(2026, 1, 1)), items: [{ product, quantity: 1, price: 450 }], deliveryCost: 300,
      carrier: 'CDEK', trackingNumber: 'TRK123', trackingUrl: 'https://track.test/TRK123', deliveryMethod: 'Курьер', paymentMethod: 'Карта',
      events: [
        { status: 'created', occurredAt: new Date(Date.UTC(2026, 1, 1, 9)) },
        { status: 'paid', occurredAt: new Date(Date.UTC(2026, 1, 1, 10)) },
        { status: 'shipped', occurredAt: new Date(Date.UTC(2026, 1, 2, 12)), carrier: 'CDEK', trackingNumber: 'TRK123', trackingUrl: 'https://track.test/TRK123', location: 'Москва' },
      ],
    });
    // Someone else's order must never show.
    const other = await createCustomer(h.ctx.prisma, { phone: '+79160000199' });
    await createOrder(h.ctx.prisma, other.id, { number: 'N-999', items: [{ product, quantity: 1, price: 450 }] });

    await p.press(ordersCb.encode('list', { page: 0 }));
    const page1 = p.lastButtons().map((b) => b.text);
    expect(page1[0]).toContain('N-200');
    expect(page1.slice(0, 5).map((t) => t.split(' ')[0])).toEqual(['№N-200', '№N-106', '№N-105', '№N-104', '№N-103']);
    expect(p.lastText()).toContain('страница 1 из 2');
    const listMessageId = [...p.chat()].reverse().find((m) => m.direction === 'out')!.messageId;

    await p.press(ordersCb.encode('list', { page: 1 }));
    // Navigation edits the same message.
    expect([...p.chat()].reverse().find((m) => m.direction === 'out')!.messageId).toBe(listMessageId);
    expect(p.lastButtons().map((b) => b.text.split(' ')[0]).slice(0, 3)).toEqual(['№N-102', '№N-101', '№N-100']);
    expect(p.lastButtons().some((b) => b.text.includes('N-999'))).toBe(false);

    await p.press(ordersCb.encode('list', { page: 0 }));
    await p.press(ordersCb.encode('card', { id: shipped.id, page: 0 }));
    const card = p.lastText();
    expect(card).toContain('Заказ №N-200');
    expect(card).toContain('Чай <улун> & мёд × 1');
    expect(card).toContain('Отправлен');
    expect(card).toContain('Способ доставки: Курьер');
    expect(card).toContain('TRK123 (CDEK)');
    expect(card).toMatch(/Итого: 750/);

    await p.press(ordersCb.encode('track', { id: shipped.id, page: 0 }));
    const track = p.lastText();
    // Newest first, the current state on top.
    expect(track.indexOf('Отправлен')).toBeLessThan(track.indexOf('Оплачен'));
    expect(track.indexOf('Оплачен')).toBeLessThan(track.indexOf('Создан'));
    expect(track).toContain('CDEK, трек TRK123');
    expect(track).toContain('Москва');
    expect(p.lastButtons().find((b) => b.url)?.url).toBe('https://track.test/TRK123');

    // A deep link to another customer's order is refused politely.
    await p.start('order_N-999');
    expect(p.botTexts().at(-2)).toContain('Заказ не найден');
    await p.start('order_N-200');
    expect(p.lastText()).toContain('Заказ №N-200');
  });

  it('repeats an order: a changed price and an out-of-stock item shown, cart link built, request and outbox recorded', async () => {
    const { p, customer } = await loggedIn('+79160000102');
    const cheaper = await createProduct(h.ctx.prisma, { sku: 'TEA-1', name: 'Чай', price: 500, stock: 10 });
    const gone = await createProduct(h.ctx.prisma, { sku: 'MUG-1', name: 'Кружка', price: 300, stock: 0 });
    const same = await createProduct(h.ctx.prisma, { sku: 'SPOON 1', name: 'Ложка', price: 100, stock: 5 });
    const order = await createOrder(h.ctx.prisma, customer.id, {
      number: 'R-1',
      items: [{ product: cheaper, quantity: 2, price: 450 }, { product: gone, quantity: 1, price: 300 }, { product: same, quantity: 3, price: 100 }],
    });
    await p.press(ordersCb.encode('list', { page: 0 }));
    await p.press(ordersCb.encode('card', { id: order.id, page: 0 }));
    await p.press(ordersCb.encode('repeat', { id: order.id, page: 0 }));
    const preview = p.lastText();
    // Line totals, with the unit price beside them: the same format as the order card.
    expect(preview).toMatch(/Чай × 2 — 1\s?000\s₽ \(по 500\s₽ за шт\.\).*было 450/);
    expect(preview).toContain('Кружка — нет в наличии');
    expect(preview).toMatch(/Ложка × 3 — 300\s₽ \(по 100\s₽ за шт\.\)/);
    expect(preview).toMatch(/Итого сейчас: 1\s?300/);
    expect(await h.ctx.prisma.repeatOrderRequest.count()).toBe(0);

    await p.press(ordersCb.encode('cart', { id: order.id }));
    const expectedUrl = CART_TEMPLATE.replace('{items}', encodeURIComponent('TEA-1:2,SPOON 1:3')).replace('{order}', 'R-1');
    expect(p.lastButtons().find((b) => b.url)?.url).toBe(expectedUrl);
    const request = await h.ctx.prisma.repeatOrderRequest.findFirstOrThrow({ where: { orderId: order.id } });
    expect(request.cartUrl).toBe(expectedUrl);
    expect(request.items).toEqual(expect.arrayContaining([
      expect.objectContaining({ sku: 'TEA-1', quantity: 2, price: '500.00', previousPrice: '450.00', available: true }),
      expect.objectContaining({ sku: 'MUG-1', quantity: 0, available: false, state: 'out_of_stock' }),
    ]));
    const event = await h.ctx.prisma.outboxEvent.findFirstOrThrow({ where: { eventType: 'repeat_order.requested' } });
    expect(event.payload).toMatchObject({ requestId: request.id, orderId: order.id, customerId: customer.id, cartUrl: expectedUrl });
  });
});

describe('customer bot: wishlist and loyalty', () => {
  it('adds from a product deep link and from search, subscribes to alerts, removes', async () => {
    const { p, customer } = await loggedIn('+79160000103');
    const kettle = await createProduct(h.ctx.prisma, { sku: 'KTL-7', name: 'Чайник стеклянный', price: 2500, stock: 0 });
    const cup = await createProduct(h.ctx.prisma, { sku: 'CUP-9', name: 'Чашка фарфоровая', price: 700 });

    await p.start('product_KTL-7');
    expect(p.lastText()).toContain('Чайник стеклянный');
    expect(p.lastText()).toContain('Нет в наличии');
    await p.press(wishlistCb.encode('add', { id: kettle.id }));
    expect(await h.ctx.prisma.wishlistItem.count({ where: { customerId: customer.id, productId: kettle.id } })).toBe(1);
    await p.press(wishlistCb.encode('alert', { id: kettle.id, kind: 'stock', on: true }));
    await p.press(wishlistCb.encode('alert', { id: kettle.id, kind: 'price', on: true }));
    const alerts = await h.ctx.prisma.productAlert.findMany({ where: { customerId: customer.id, active: true }, orderBy: { kind: 'asc' } });
    expect(alerts.map((a) => [a.kind, a.basePrice?.toFixed(2) ?? null])).toEqual([['back_in_stock', null], ['price_drop', '2500.00']]);
    expect(p.lastButtons().map((b) => b.text)).toContain('🔔 Сообщить о поступлении: вкл');

    await p.press(wishlistCb.encode('list'));
    await p.press(wishlistCb.encode('search'));
    await p.say('фарфор');
    expect(p.lastText()).toContain('Нашли по запросу «фарфор»');
    await p.press(wishlistCb.encode('item', { id: cup.id }));
    await p.press(wishlistCb.encode('add', { id: cup.id }));
    await p.press(wishlistCb.encode('list'));
    expect(p.lastText()).toContain('Чашка фарфоровая');
    expect(p.lastText()).toContain('Чайник стеклянный — 2');

    await p.press(wishlistCb.encode('item', { id: kettle.id }));
    await p.press(wishlistCb.encode('remove', { id: kettle.id }));
    expect(await h.ctx.prisma.wishlistItem.count({ where: { customerId: customer.id } })).toBe(1);
    expect(await h.ctx.prisma.productAlert.count({ where: { customerId: customer.id, active: true } })).toBe(0);
    expect(p.lastText()).not.toContain('Чайник');
  });

  it('shows balance, tier, the next tier, recent transactions and points expiring soon', async () => {
    const { p, customer } = await loggedIn('+79160000104');
    const now = new Date();
    await h.ctx.prisma.customer.update({ where: { id: customer.id }, data: { pointsBalance: 850, lifetimeSpend: '25000.00', loyaltyTierCode: null } });
    await h.ctx.prisma.loyaltyTransaction.createMany({
      data: [
        { customerId: customer.id, kind: 'accrual', points: 600, remaining: 400, expiresAt: new Date(now.getTime() + 5 * 86_400_000), createdAt: new Date(now.getTime() - 2 * 86_400_000) },
        { customerId: customer.id, kind: 'accrual', points: 450, remaining: 450, expiresAt: new Date(now.getTime() + 300 * 86_400_000), createdAt: new Date(now.getTime() - 86_400_000) },
        { customerId: customer.id, kind: 'redemption', points: -200, createdAt: now },
      ],
    });
    await p.press(loyaltyCb.encode('show'));
    const text = p.lastText();
    expect(text).toContain('Баланс: 850 баллов');
    expect(text).toContain('Уровень: Серебряный');
    expect(text).toMatch(/До уровня «Золотой» осталось купить на 35\s000/);
    expect(text).toContain('400 баллов сгорят');
    expect(text.indexOf('-200')).toBeLessThan(text.indexOf('+450'));
  });
});

describe('customer bot: profile, language, help', () => {
  it('edits name and email (a bad email refused), sets the birthday once, toggles notifications, manages addresses', async () => {
    const { p, customer } = await loggedIn('+79160000105');
    await p.press(profileCb.encode('show'));
    await p.press(profileCb.encode('name'));
    await p.say('Вера <Иванова>');
    await p.press(profileCb.encode('email'));
    await p.say('not-an-email');
    expect(p.lastText()).toContain('не похоже на email');
    await p.say('Vera@Example.COM');
    let row = await h.ctx.prisma.customer.findUniqueOrThrow({ where: { id: customer.id } });
    expect(row).toMatchObject({ firstName: 'Вера', lastName: '<Иванова>', email: 'vera@example.com' });
    expect(p.lastText()).toContain('Имя: Вера <Иванова>');

    await p.press(profileCb.encode('birthday'));
    await p.say('31.02.1990');
    expect(p.lastText()).toContain('Не получилось распознать дату');
    await p.say('14.02.1990');
    row = await h.ctx.prisma.customer.findUniqueOrThrow({ where: { id: customer.id } });
    expect(row.birthday?.toISOString().slice(0, 10)).toBe('1990-02-14');
    expect(p.lastButtons().some((b) => b.callback_data === profileCb.encode('birthday'))).toBe(false);
    // An old birthday button cannot set it again.
    const oldButtonMessage = p.chat().filter((m) => m.direction === 'out').find((m) => JSON.stringify(m.replyMarkup ?? {}).includes(profileCb.encode('birthday')));
    if (oldButtonMessage) {
      await p.press(profileCb.encode('birthday'));
      await p.say('01.01.2000');
      expect(p.lastText()).toContain('уже указан');
    }
    expect((await h.ctx.prisma.customer.findUniqueOrThrow({ where: { id: customer.id } })).birthday?.toISOString().slice(0, 10)).toBe('1990-02-14');

    // Promotions are the marketing consent: off until the customer agrees; each answer is on record.
    await p.say('/profile');
    expect(p.lastText()).toContain('Акции и новости: выкл');
    await p.press(profileCb.encode('notify', { kind: 'promos', on: true }));
    expect(p.lastText()).toContain('Акции и новости: вкл');
    await p.press(profileCb.encode('notify', { kind: 'promos', on: false }));
    row = await h.ctx.prisma.customer.findUniqueOrThrow({ where: { id: customer.id } });
    expect(row).toMatchObject({ notifyPromotions: false, marketingConsent: false, notifyOrderUpdates: true });
    const consents = await h.ctx.prisma.consentEvent.findMany({ where: { customerId: customer.id }, orderBy: { createdAt: 'asc' } });
    expect(consents.map((c) => [c.kind, c.granted, c.source])).toEqual([['marketing', true, 'telegram'], ['marketing', false, 'telegram']]);
    await p.press(profileCb.encode('notify', { kind: 'orders', on: false }));
    expect((await h.ctx.prisma.customer.findUniqueOrThrow({ where: { id: customer.id } })).notifyOrderUpdates).toBe(false);

    await p.press(addressesCb.encode('list'));
    await p.press(addressesCb.encode('add'));
    for (const answer of ['Москва', 'Тверская', '1', '5']) await p.say(answer);
    await p.press(addressesCb.encode('list'));
    await p.press(addressesCb.encode('add'));
    for (const answer of ['Казань', 'Баумана', ' ']) await p.say(answer);
    // An empty house is refused at once, in words, and asked again.
    expect(p.lastText()).toContain('Нужно указать номер дома');
    expect(p.lastText()).toContain('Дом');
    await p.say('7');
    await p.say('-');
    const [first, second] = await h.ctx.prisma.address.findMany({ where: { customerId: customer.id }, orderBy: { createdAt: 'asc' } });
    expect(first).toMatchObject({ city: 'Москва', apartment: '5', isDefault: true });
    expect(second).toMatchObject({ city: 'Казань', house: '7', apartment: null, isDefault: false });

    await p.press(addressesCb.encode('list'));
    await p.press(addressesCb.encode('item', { id: second!.id }));
    await p.press(addressesCb.encode('edit', { id: second!.id }));
    for (const answer of ['=', 'Кремлёвская', '=', '12']) await p.say(answer);
    expect(await h.ctx.prisma.address.findUniqueOrThrow({ where: { id: second!.id } })).toMatchObject({ city: 'Казань', street: 'Кремлёвская', house: '7', apartment: '12' });
    await p.press(addressesCb.encode('makeDefault', { id: second!.id }));
    expect((await h.ctx.prisma.address.findUniqueOrThrow({ where: { id: second!.id } })).isDefault).toBe(true);
    expect((await h.ctx.prisma.address.findUniqueOrThrow({ where: { id: first!.id } })).isDefault).toBe(false);
    await p.press(addressesCb.encode('list'));
    await p.press(addressesCb.encode('item', { id: second!.id }));
    await p.press(addressesCb.encode('remove', { id: second!.id }));
    await p.press(addressesCb.encode('removeConfirm', { id: second!.id }));
    const left = await h.ctx.prisma.address.findMany({ where: { customerId: customer.id } });
    expect(left.map((a) => [a.id, a.isDefault])).toEqual([[first!.id, true]]);

    const events = await h.ctx.prisma.outboxEvent.findMany({ where: { payload: { path: ['customerId'], equals: customer.id } } });
    const types = events.map((e) => e.eventType);
    expect(types.filter((t) => t === 'customer.updated').length).toBeGreaterThanOrEqual(5);
    expect(types.filter((t) => t === 'customer.address_changed').length).toBe(5);
  });

  it('switches language: next replies in English, stored on the customer', async () => {
    const { p, customer } = await loggedIn('+79160000106');
    await p.say('/language');
    await p.press(profileCb.encode('language', { code: 'en' }));
    expect((await h.ctx.prisma.customer.findUniqueOrThrow({ where: { id: customer.id } })).language).toBe('en');
    await p.say('/orders');
    expect(p.lastText()).toBe('You have no orders yet.');
    await p.say('hello?');
    expect(p.lastText()).toContain('I understand the menu buttons');
  });

  it('answers stale and unknown buttons politely and records a request to talk to a person', async () => {
    const p = person(h, { firstName: 'Gleb', languageCode: 'ru' });
    await p.say('/start');
    for (const data of ['o:card:not-a-uuid:0', 'zz:unknown', 'w:alert:x']) {
      const update = await p.pressStale(data);
      const answer = h.fake.callbackAnswer('7000002:AAkabinet-customer-bot-test', update.callback_query!.id);
      expect(answer, data).toBeDefined();
      expect(String(answer!.text), data).toContain('Эта кнопка устарела');
    }
    // A well-formed button of an account screen, pressed before login, asks for login.
    const guestPress = await p.pressStale(ordersCb.encode('card', { id: '00000000-0000-7000-8000-000000000000', page: 0 }));
    expect(h.fake.callbackAnswer('7000002:AAkabinet-customer-bot-test', guestPress.callback_query!.id)).toBeDefined();
    expect(p.lastText()).toContain('доступен после входа');
    await p.say('/help');
    await p.press(helpCb.encode('topic', { topic: 'returns' }));
    expect(p.lastText()).toContain('14 дней');
    await p.press(helpCb.encode('show'));
    await p.press(helpCb.encode('human'));
    await p.say('Где мой <заказ>?');
    expect(p.botTexts().some((t) => t.includes('Передали ваш вопрос оператору'))).toBe(true);
    const conversation = await h.ctx.prisma.supportConversation.findFirstOrThrow({ where: { identity: { externalId: String(p.user.id) } }, include: { messages: true } });
    expect(conversation.status).toBe('waiting');
    expect(conversation.messages.map((m) => m.text)).toEqual(['Где мой <заказ>?']);
    expect(await h.ctx.prisma.outboxEvent.count({ where: { eventType: 'support.requested', payload: { path: ['conversationId'], equals: conversation.id } } })).toBe(1);
  });
});
