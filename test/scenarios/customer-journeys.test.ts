/**
 * The customer journeys of the Telegram issue, written once and run on both platforms
 * through the real edges: the Telegram webhook route with the fake Bot API, and the VK
 * Callback API route with the fake VK API (bridge + transformer + vk-io). The same brain
 * answers both; only the drivers differ.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/channels/outbound.js';
import { createCustomer, createOrder, createProduct } from '../support/factories.js';
import { DRIVERS, type DriverFactory } from './drivers.js';
import { CART_TEMPLATE, createWorld, type World } from './world.js';

let world: World;
beforeAll(async () => {
  world = await createWorld();
});
afterAll(async () => {
  await world?.close();
});

let phoneSeq = 0;
const PLATFORM_DIGIT: Record<Platform, string> = { telegram: '1', vk: '2' };
/** A fresh, valid Russian mobile number per call, distinct across platforms. */
const newPhone = (platform: Platform) => `+7916${PLATFORM_DIGIT[platform]}${String(100_000 + ++phoneSeq).slice(-6)}`;

describe.each(DRIVERS)('customer journeys on %s', (platform: Platform, make: DriverFactory) => {
  const ru = () => world.ctx.translator.t('ru');
  const identity = (externalId: string) => world.ctx.prisma.channelIdentity.findUniqueOrThrow({ where: { platform_externalId: { platform, externalId } } });

  async function loggedIn(lang = 'ru') {
    const phone = newPhone(platform);
    const customer = await createCustomer(world.ctx.prisma, { phone, firstName: 'Вера', language: lang });
    const p = make(world, { firstName: 'Vera', languageCode: lang });
    await p.say('/start');
    await p.login(phone);
    return { p, customer };
  }

  it('greets with the guest menu, then logs in and links the shop customer', async () => {
    const phone = newPhone(platform);
    const existing = await createCustomer(world.ctx.prisma, { phone, firstName: 'Борис' });
    const p = make(world, { firstName: 'Boris' });
    await p.say('/start');
    expect(p.lastText()).toContain('Shop <&> Co');
    expect(p.lastText()).toContain('войдите по номеру телефона');
    if (platform === 'telegram') expect(p.replyButtons()).toContain(ru()('auth.share'));
    else expect(p.buttons()).toContain(ru()('menu.login'));
    expect((await identity(p.externalId)).customerId).toBeNull();

    await p.press(ru()('menu.orders'));
    expect(p.lastText()).toContain('доступен после входа');

    await p.login(phone);
    expect((await identity(p.externalId)).customerId).toBe(existing.id);
    expect(p.texts().some((t) => t.includes('вы вошли'))).toBe(true);
    expect(p.lastText()).toContain('Личный кабинет');
    expect(p.buttons()).not.toContain(ru()('menu.login'));
  });

  it('lists orders, opens a card and its tracking, repeats an order with a changed price and an out-of-stock item', async () => {
    const { p, customer } = await loggedIn();
    const tea = await createProduct(world.ctx.prisma, { sku: `TEA-${platform}`, name: 'Чай', price: 500, stock: 10 });
    const mug = await createProduct(world.ctx.prisma, { sku: `MUG-${platform}`, name: 'Кружка', price: 300, stock: 0 });
    const prefix = platform === 'vk' ? 'V' : 'T';
    for (let i = 0; i < 6; i++) {
      await createOrder(world.ctx.prisma, customer.id, { number: `${prefix}-${100 + i}`, placedAt: new Date(Date.UTC(2026, 0, 1 + i)), items: [{ product: tea, quantity: 1, price: 500 }] });
    }
    const shipped = await createOrder(world.ctx.prisma, customer.id, {
      number: `${prefix}-200`, status: 'shipped', placedAt: new Date(Date.UTC(2026, 1, 1)), deliveryCost: 300,
      items: [{ product: tea, quantity: 2, price: 450 }, { product: mug, quantity: 1, price: 300 }],
      carrier: 'CDEK', trackingNumber: 'TRK123', trackingUrl: 'https://track.test/TRK123', deliveryMethod: 'Курьер',
      events: [
        { status: 'created', occurredAt: new Date(Date.UTC(2026, 1, 1, 9)) },
        { status: 'paid', occurredAt: new Date(Date.UTC(2026, 1, 1, 10)) },
        { status: 'shipped', occurredAt: new Date(Date.UTC(2026, 1, 2, 12)), carrier: 'CDEK', trackingNumber: 'TRK123', location: 'Москва' },
      ],
    });

    await p.press(ru()('menu.orders'));
    expect(p.lastText()).toContain('Ваши заказы');
    expect(p.lastText()).toContain('страница 1 из 2');
    expect(p.buttons()[0]).toContain(`№${prefix}-200`);
    await p.press(ru()('orders.list.next'));
    expect(p.lastText()).toContain('страница 2 из 2');
    expect(p.buttons().some((b) => b.startsWith(`№${prefix}-100`))).toBe(true);
    await p.press(ru()('orders.list.prev'));

    await p.press(`№${prefix}-200`);
    expect(p.lastText()).toContain(`Заказ №${prefix}-200`);
    expect(p.lastText()).toContain('Чай × 2');
    expect(p.lastText()).toContain('TRK123 (CDEK)');
    expect(p.lastText()).not.toContain('<b>');

    await p.press(ru()('orders.card.track_button'));
    const track = p.lastText();
    expect(track.indexOf('Отправлен')).toBeLessThan(track.indexOf('Оплачен'));
    expect(track.indexOf('Оплачен')).toBeLessThan(track.indexOf('Создан'));
    expect(track).toContain('Москва');
    await p.press(ru()('orders.track.back_button'));

    await p.press(ru()('orders.card.repeat_button'));
    expect(p.lastText()).toMatch(/Чай × 2 — 1\s?000\s₽ \(по 500\s₽ за шт\.\).*было 450/);
    expect(p.lastText()).toContain('Кружка — нет в наличии');
    expect(await world.ctx.prisma.repeatOrderRequest.count({ where: { orderId: shipped.id } })).toBe(0);
  });

  it('adds a product to the wishlist from a deep link, removes it, and shows loyalty', async () => {
    const { p, customer } = await loggedIn();
    const kettle = await createProduct(world.ctx.prisma, { sku: `KTL-${platform}`, name: 'Чайник стеклянный', price: 2500, stock: 3 });
    await p.say(`/start product_KTL-${platform}`);
    expect(p.lastText()).toContain('Чайник стеклянный');
    await p.press(ru()('wishlist.product.add_button'));
    expect(await world.ctx.prisma.wishlistItem.count({ where: { customerId: customer.id, productId: kettle.id } })).toBe(1);
    await p.press(ru()('wishlist.product.remove_button'));
    expect(await world.ctx.prisma.wishlistItem.count({ where: { customerId: customer.id } })).toBe(0);

    await world.ctx.prisma.customer.update({ where: { id: customer.id }, data: { pointsBalance: 850, lifetimeSpend: '25000.00' } });
    await p.say('/start');
    await p.press(ru()('menu.loyalty'));
    expect(p.lastText()).toContain('Баланс: 850 баллов');
    expect(p.lastText()).toMatch(/До уровня «Золотой» осталось купить на 35\s000/);
  });

  it('edits the profile: a bad email refused, a good one saved; switches language to English', async () => {
    const { p, customer } = await loggedIn();
    await p.press(ru()('menu.profile'));
    await p.press(ru()('profile.buttons.email'));
    await p.say('not-an-email');
    expect(p.lastText()).toContain(ru()('profile.bad_email'));
    expect((await world.ctx.prisma.customer.findUniqueOrThrow({ where: { id: customer.id } })).email).toBeNull();
    await p.say('Vera@Example.COM');
    expect((await world.ctx.prisma.customer.findUniqueOrThrow({ where: { id: customer.id } })).email).toBe('vera@example.com');

    await p.say('/language');
    await p.press('English');
    expect((await world.ctx.prisma.customer.findUniqueOrThrow({ where: { id: customer.id } })).language).toBe('en');
    await p.say('/start');
    expect(p.lastText()).toContain('Your account');
  });
});
