/**
 * The rough edges customers met in the chat (issue 11), each shown by what the customer sees,
 * on Telegram and VK, through the real webhook routes against the fake messenger APIs.
 */
import { describe, expect, it } from 'vitest';
import type { Platform } from '../../src/channels/outbound.js';
import { createCustomer, createOrder, createProduct } from '../support/factories.js';
import { DRIVERS, type Driver, type DriverFactory } from './drivers.js';
import { phoneNumbers, useWorld } from './setup.js';
import { TG_TOKEN, VK_GROUP } from './world.js';

const world = useWorld();
const newPhone = phoneNumbers('931');

describe.each(DRIVERS)('what customers meet in the chat on %s', (platform: Platform, make: DriverFactory) => {
  const ru = () => world().ctx.translator.t('ru');
  const en = () => world().ctx.translator.t('en');
  const prisma = () => world().ctx.prisma;
  const tag = platform === 'vk' ? 'V' : 'T';

  async function loggedIn(options: { language?: string; appLanguage?: string } = {}): Promise<{ p: Driver; customerId: string; phone: string }> {
    const phone = newPhone(platform);
    const customer = await createCustomer(prisma(), { phone, firstName: 'Вера', language: options.language ?? 'ru' });
    const p = make(world(), { firstName: 'Vera', languageCode: options.appLanguage ?? options.language ?? 'ru' });
    await p.start();
    await p.login(phone);
    return { p, customerId: customer.id, phone };
  }

  it('the order card says delivery, payment and payment status in words, each line with its own label', async () => {
    const { p, customerId } = await loggedIn();
    const tea = await createProduct(prisma(), { sku: `RE-TEA-${tag}`, name: 'Чай', price: 500 });
    await createOrder(prisma(), customerId, {
      number: `RE-${tag}-1`, deliveryCost: 300, deliveryMethod: 'courier', paymentMethod: 'card', paymentStatus: 'paid',
      items: [{ product: tea, quantity: 2, price: 500 }],
    });
    await createOrder(prisma(), customerId, {
      number: `RE-${tag}-2`, deliveryMethod: 'drone_drop', paymentMethod: 'Оплата частями', paymentStatus: 'partially_paid',
      items: [{ product: tea, quantity: 1, price: 500 }],
    });
    await p.say(`№RE-${tag}-1`);
    const card = p.lastText();
    expect(card).toContain('Способ доставки: курьер');
    expect(card).toContain('Способ оплаты: банковская карта онлайн');
    expect(card).toContain('Статус оплаты: оплачен');
    expect(card).toContain('Стоимость доставки: 300');
    expect(card).toMatch(/Чай × 2 — 1\s?000\s₽ \(по 500\s₽ за шт\.\)/);
    for (const raw of ['courier', 'card', ': paid']) expect(card).not.toContain(raw);
    // One label per line: "Доставка:" no longer stands for both the cost and the method.
    expect(card.split('\n').filter((line) => line.startsWith('Доставка:'))).toEqual([]);

    await p.say(`№RE-${tag}-2`);
    // An unknown code reads as words; what the shop wrote in words is kept.
    expect(p.lastText()).toContain('Способ доставки: Drone drop');
    expect(p.lastText()).toContain('Способ оплаты: Оплата частями');
    expect(p.lastText()).toContain('Статус оплаты: оплачен частично');
  });

  it('an English customer logging in from a Russian-language app is answered in English from the login on, product names included', async () => {
    const { p, customerId } = await loggedIn({ language: 'en', appLanguage: 'ru' });
    const loginReply = p.texts().find((text) => text.includes(en()('auth.success')));
    expect(loginReply, p.texts().join(' / ')).toBeDefined();
    expect(p.texts().join('\n')).not.toContain(ru()('auth.success'));
    expect(p.lastText()).toContain('Your account');

    const kettle = await createProduct(prisma(), { sku: `RE-KTL-${tag}`, name: 'Чайник заварочный', nameEn: 'Teapot', price: 900, stock: 5 });
    const cup = await createProduct(prisma(), { sku: `RE-CUP-${tag}`, name: 'Чашка', price: 200, stock: 5 });
    await createOrder(prisma(), customerId, {
      number: `RE-${tag}-81`, deliveryMethod: 'pickup', items: [{ product: kettle, quantity: 2, price: 900 }, { product: cup, quantity: 1, price: 200 }],
    });
    await p.say(`#RE-${tag}-81`);
    const card = p.lastText();
    expect(card).toMatch(/Teapot × 2 — RUB\s1,800 \(RUB\s900 each\)/);
    // No English name: the other language's, never nothing.
    expect(card).toMatch(/Чашка × 1 — RUB\s200/);
    expect(card).toContain('In this order:');
    expect(card).toContain('Subtotal:');
    expect(card.split('\n').filter((line) => line.startsWith('Items:'))).toEqual([]);
    expect(card).toContain('Delivery method: pickup from the shop');

    await p.press(en()('orders.card.repeat_button'));
    expect(p.lastText()).toMatch(/Teapot × 2 — RUB\s1,800 \(RUB\s900 each\)/);
    expect(p.lastText()).not.toContain('Чайник');
  });

  it('a long tracking history shows the newest first with the current state, and pages through every event', async () => {
    const { p, customerId } = await loggedIn();
    const tea = await createProduct(prisma(), { sku: `RE-TRK-${tag}`, name: 'Чай', price: 100 });
    const events = Array.from({ length: 20 }, (_, i) => ({
      status: i < 2 ? ('created' as const) : i === 19 ? ('ready_for_pickup' as const) : ('shipped' as const),
      occurredAt: new Date(Date.UTC(2026, 2, 1, i)),
      location: `Точка ${i + 1}: сортировочный центр ${'очень длинного названия '.repeat(6)}`,
    }));
    await createOrder(prisma(), customerId, { number: `RE-${tag}-82`, status: 'ready_for_pickup', items: [{ product: tea, quantity: 1, price: 100 }], events });
    await p.say(`№RE-${tag}-82`);
    await p.press(ru()('orders.card.track_button'));
    const first = p.lastText();
    expect(first).toContain('Сейчас: Ждёт в пункте выдачи');
    expect(first).toContain('Точка 20:');
    expect(first.indexOf('Точка 20:')).toBeLessThan(first.indexOf('Точка 19:'));
    expect(first).toMatch(/События 1–\d+ из 20/);
    expect(first.endsWith('…')).toBe(false);

    const seen = new Set<number>();
    const collect = (text: string) => [...text.matchAll(/Точка (\d+):/g)].forEach((m) => seen.add(Number(m[1])));
    collect(first);
    for (let turn = 0; turn < 10 && p.buttons().includes(ru()('orders.track.older')); turn++) {
      await p.press(ru()('orders.track.older'));
      expect(p.lastText()).toContain('Сейчас: Ждёт в пункте выдачи');
      collect(p.lastText());
    }
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    await p.press(ru()('orders.track.newer'));
    expect(p.lastText()).toContain('Точка');
  });

  it('text with NUL characters is searched and sent to the shop instead of failing', async () => {
    const { p, customerId } = await loggedIn();
    await createProduct(prisma(), { sku: `RE-NUL-${tag}`, name: `Нулевой чай ${tag}`, price: 100, stock: 1 });
    await p.press(ru()('menu.wishlist'));
    await p.press(ru()('wishlist.search_button'));
    await p.say(`Нулевой\u0000 чай ${tag}`);
    expect(p.lastText()).toContain(`Нашли по запросу «Нулевой чай ${tag}»`);
    expect(p.texts().join('\n')).not.toContain(ru()('errors.generic'));

    await p.say('/help');
    await p.press(ru()('help.buttons.human'));
    await p.say(`Где\u0000 мой заказ ${tag}?`);
    expect(p.texts().join('\n')).toContain(ru()('help.human.sent'));
    expect(p.texts().join('\n')).not.toContain(ru()('errors.generic'));
    const stored = await prisma().supportMessage.findFirst({ where: { conversation: { customerId }, text: { contains: `мой заказ ${tag}` } } });
    expect(stored?.text).toBe(`Где мой заказ ${tag}?`);
  });

  it('every text prompt has a cancel button that leaves the flow and shows the menu', async () => {
    const { p, customerId } = await loggedIn();
    await p.say('/profile');
    await p.press(ru()('profile.buttons.name'));
    expect(p.buttons()).toContain(ru()('menu.cancel'));
    await p.press(ru()('menu.cancel'));
    expect(p.texts().join('\n')).toContain(ru()('menu.cancelled'));
    await p.say('Иван Петров');
    expect((await prisma().customer.findUniqueOrThrow({ where: { id: customerId } })).firstName).toBe('Вера');

    await p.press(ru()('menu.wishlist'));
    await p.press(ru()('wishlist.search_button'));
    expect(p.buttons()).toContain(ru()('menu.cancel'));
    await p.say('/help');
    await p.press(ru()('help.buttons.human'));
    expect(p.buttons()).toContain(ru()('menu.cancel'));
    await p.press(ru()('menu.cancel'));
    expect(await prisma().supportConversation.count({ where: { customerId } })).toBe(0);
  });

  it('the address form checks each answer as it is given and says what is wrong', async () => {
    const { p, customerId } = await loggedIn();
    await p.say('/profile');
    await p.press(ru()('profile.buttons.addresses'));
    await p.press(ru()('addresses.buttons.add'));
    expect(p.buttons()).toContain(ru()('menu.cancel'));
    await p.say('123');
    expect(p.lastText()).toContain('нужно указать город словами');
    expect(p.lastText()).toContain(ru()('addresses.ask.city'));
    await p.say('Казань');
    expect(p.lastText()).toContain(ru()('addresses.ask.street'));
    await p.say('-');
    expect(p.lastText()).toContain('Нужно указать улицу');
    expect(p.lastText()).toContain(ru()('addresses.ask.street'));
    await p.say('Баумана');
    await p.say('д'.repeat(21));
    expect(p.lastText()).toContain('не больше 20 символов');
    await p.say('7');
    await p.say('-');
    expect(p.texts().join('\n')).toContain(ru()('addresses.added'));
    expect(await prisma().address.findMany({ where: { customerId }, select: { city: true, street: true, house: true, apartment: true } })).toEqual([
      { city: 'Казань', street: 'Баумана', house: '7', apartment: null },
    ]);
  });

  it('a contact with an unknown phone says an account was created and asks about promotions, off until yes', async () => {
    const phone = newPhone(platform);
    const p = make(world(), { firstName: 'Новый' });
    await p.start();
    await p.login(phone);
    const customer = await prisma().customer.findUniqueOrThrow({ where: { phone } });
    expect(customer).toMatchObject({ marketingConsent: false, notifyPromotions: false });
    expect(p.texts().join('\n')).toContain('мы создали для него новый личный кабинет');
    expect(p.texts().join('\n')).toContain(ru()('auth.consent.question'));
    expect(p.lastText()).toContain('Личный кабинет');

    await p.press(ru()('auth.consent.yes'));
    expect(p.texts().join('\n')).toContain(ru()('auth.consent.granted'));
    expect(await prisma().customer.findUniqueOrThrow({ where: { phone } })).toMatchObject({ marketingConsent: true, notifyPromotions: true });
    const events = await prisma().consentEvent.findMany({ where: { customerId: customer.id } });
    expect(events.map((e) => [e.kind, e.granted, e.source])).toEqual([['marketing', true, platform]]);

    await p.say('/profile');
    expect(p.lastText()).toContain('Акции и новости: вкл');
    await p.press(ru()('profile.buttons.notify_promos_on'));
    expect(p.lastText()).toContain('Акции и новости: выкл');
    expect(await prisma().consentEvent.count({ where: { customerId: customer.id, granted: false } })).toBe(1);
  });

  it('"no" to the promotions question is recorded too, and promotions stay off', async () => {
    const phone = newPhone(platform);
    const p = make(world(), { firstName: 'Осторожный' });
    await p.start();
    await p.login(phone);
    await p.press(ru()('auth.consent.no'));
    expect(p.texts().join('\n')).toContain(ru()('auth.consent.refused'));
    const customer = await prisma().customer.findUniqueOrThrow({ where: { phone }, include: { consentEvents: true } });
    expect(customer).toMatchObject({ marketingConsent: false, notifyPromotions: false });
    expect(customer.consentEvents.map((e) => [e.kind, e.granted, e.source])).toEqual([['marketing', false, platform]]);
  });

  it('a known phone logs in without the new-account words or the promotions question', async () => {
    const { p } = await loggedIn();
    expect(p.texts().join('\n')).not.toContain(ru()('auth.consent.question'));
    expect(p.texts().join('\n')).not.toContain('создали');
  });

  it('a reply refused because the person blocked the bot marks them blocked and sends nothing more', async () => {
    const { p } = await loggedIn();
    const peer = Number(p.externalId);
    const sends = () =>
      platform === 'telegram'
        ? world().tg.calls(TG_TOKEN).filter((c) => c.method === 'sendMessage' && Number((c.params as { chat_id?: unknown }).chat_id) === peer).length
        : world().vk.calls(VK_GROUP).filter((c) => c.method === 'messages.send' && String((c.params as Record<string, unknown>).peer_ids) === String(peer)).length;
    const before = sends();
    if (platform === 'telegram') world().tg.failNext(TG_TOKEN, 'sendMessage', { errorCode: 403, description: 'Forbidden: bot was blocked by the user', chatId: peer });
    else world().vk.failNext('messages.send', { code: 901, message: "Can't send messages for users without permission", peerId: peer });
    await p.say('/orders');
    const identity = await prisma().channelIdentity.findUniqueOrThrow({ where: { platform_externalId: { platform, externalId: p.externalId } } });
    expect(identity.blockedAt).not.toBeNull();
    // The refused reply was the only attempt: no "something went wrong" to the same dialog.
    expect(sends() - before).toBe(1);
  });
});

describe('VK specifics', () => {
  const ru = () => world().ctx.translator.t('ru');
  const make = DRIVERS.find(([platform]) => platform === 'vk')![1];
  const buttonsOf = (userId: number) => world().vk.lastBotMessage(VK_GROUP, userId)?.keyboard?.buttons.flat() ?? [];

  it('"Начать" or "start" typed without the button payload greets like the Start button', async () => {
    for (const word of ['Начать', 'start', ' Start ']) {
      const p = make(world(), { firstName: 'Starter' });
      await p.say(word);
      expect(p.lastText()).toContain('войдите по номеру телефона');
      expect(p.lastText()).not.toContain(ru()('menu.free_text'));
    }
  });

  it('lists orders in the message text with short number buttons and one pager', async () => {
    const phone = newPhone('vk');
    const customer = await createCustomer(world().ctx.prisma, { phone });
    const tea = await createProduct(world().ctx.prisma, { sku: 'RE-VKL', name: 'Чай', price: 100 });
    for (let i = 0; i < 7; i++) {
      await createOrder(world().ctx.prisma, customer.id, {
        number: `VKL-2026-${1000 + i}`, status: i % 2 ? 'returned' : 'ready_for_pickup', placedAt: new Date(Date.UTC(2026, 0, 1 + i)), items: [{ product: tea, quantity: 1, price: 100 }],
      });
    }
    const p = make(world(), { firstName: 'Lister' });
    await p.start();
    await p.login(phone);
    await p.press(ru()('menu.orders'));
    const userId = Number(p.externalId);
    const text = p.lastText();
    expect(text).toContain('№VKL-2026-1006');
    expect(text).toContain('Ждёт в пункте выдачи');
    expect(text).toContain('Возвращён');
    const buttons = buttonsOf(userId);
    expect(buttons.map((b) => b.label)).toEqual(expect.arrayContaining(['№VKL-2026-1006', '№VKL-2026-1002', ru()('orders.list.next'), ru()('menu.back')]));
    for (const b of buttons) expect(b.label!.endsWith('…')).toBe(false);
    // The list's own pager only: the bridge did not have to split the keyboard.
    expect(buttons.some((b) => b.payload?.includes('vkp'))).toBe(false);
    await p.press('№VKL-2026-1004');
    expect(p.lastText()).toContain('Заказ №VKL-2026-1004');
  });

  it('the wishlist is numbered in the text with number buttons and one pager', async () => {
    const phone = newPhone('vk');
    const customer = await createCustomer(world().ctx.prisma, { phone });
    for (let i = 1; i <= 8; i++) {
      const product = await createProduct(world().ctx.prisma, { sku: `RE-WL-${i}`, name: `Очень длинное название товара из каталога номер ${i}`, price: 100 + i, stock: 1 });
      await world().ctx.prisma.wishlistItem.create({ data: { customerId: customer.id, productId: product.id, priceAtAdd: String(100 + i), createdAt: new Date(Date.UTC(2026, 0, 1, 0, i)) } });
    }
    const p = make(world(), { firstName: 'Wisher' });
    await p.start();
    await p.login(phone);
    await p.press(ru()('menu.wishlist'));
    const buttons = buttonsOf(Number(p.externalId));
    expect(buttons.map((b) => b.label)).toEqual(['1', '2', '3', '4', '5', '6', ru()('orders.list.next'), ru()('wishlist.search_button'), ru()('menu.back')]);
    expect(buttons.some((b) => b.payload?.includes('vkp'))).toBe(false);
    expect(p.lastText()).toMatch(/^1\. Очень длинное название/m);
    await p.press('4');
    expect(p.lastText()).toContain('Артикул: RE-WL-');
  });

  it('logging out says so once (no popup repeating the message)', async () => {
    const phone = newPhone('vk');
    await createCustomer(world().ctx.prisma, { phone });
    const p = make(world(), { firstName: 'Leaver' });
    await p.start();
    await p.login(phone);
    await p.say('/profile');
    await p.press(ru()('profile.buttons.logout'));
    await p.press(ru()('auth.logout_yes'));
    const said = ru()('auth.logged_out');
    expect(p.texts().filter((t) => t.includes(said))).toHaveLength(1);
    const answers = world().vk.conversation(VK_GROUP, Number(p.externalId)).eventAnswers;
    expect(answers.some((a) => JSON.stringify(a.eventData ?? {}).includes(said.slice(0, 20)))).toBe(false);
  });
});

describe('Telegram specifics', () => {
  const make = DRIVERS.find(([platform]) => platform === 'telegram')![1];
  const ru = () => world().ctx.translator.t('ru');

  it('the help menu has no empty button row, and the share-number button carries one icon', async () => {
    const p = make(world(), { firstName: 'Helper' });
    await p.start();
    expect(p.replyButtons()).toEqual([ru()('auth.share')]);
    expect([...ru()('auth.share')].filter((ch) => ch === '📱')).toHaveLength(1);
    await p.say('/help');
    const message = world().tg.lastBotMessage(TG_TOKEN, Number(p.externalId));
    const rows = (message?.reply_markup as { inline_keyboard: unknown[][] }).inline_keyboard;
    expect(rows.length).toBeGreaterThan(2);
    for (const row of rows) expect(row.length).toBeGreaterThan(0);
  });
});
