/**
 * First contact and deep links on both platforms: Telegram's Start with /start <ref>, VK's
 * "Начать" button ({"command":"start"}) with the vk.me link's `ref`. order_<number> and
 * product_<sku> open the order (after login) and the product card.
 */
import { describe, expect, it } from 'vitest';
import type { Platform } from '../../src/channels/outbound.js';
import { createCustomer, createOrder, createProduct } from '../support/factories.js';
import { DRIVERS, type DriverFactory } from './drivers.js';
import { phoneNumbers, useWorld } from './setup.js';

const world = useWorld();
const newPhone = phoneNumbers('917');

describe.each(DRIVERS)('first contact and deep links on %s', (platform: Platform, make: DriverFactory) => {
  const ru = () => world().ctx.translator.t('ru');

  it('the Start button greets a newcomer with the guest menu and the way to log in', async () => {
    const p = make(world(), { firstName: 'Nina' });
    await p.start();
    // Telegram: the share-number button comes with the greeting (one tap to log in), then the
    // guest menu; VK cannot share a contact, so the menu alone, with "Войти".
    expect(p.texts()).toHaveLength(platform === 'telegram' ? 2 : 1);
    if (platform === 'telegram') {
      expect(p.texts()[0]).toContain('Поделиться номером');
      expect(p.replyButtons()).toEqual([ru()('auth.share')]);
    }
    expect(p.lastText()).toContain('войдите по номеру телефона');
    expect(p.lastText()).not.toContain(ru()('menu.free_text'));
    expect(p.buttons()).toContain(ru()('menu.login'));
  });

  it('order_<number>: asks a guest to log in, then opens that order', async () => {
    const phone = newPhone(platform);
    const customer = await createCustomer(world().ctx.prisma, { phone });
    const tea = await createProduct(world().ctx.prisma, { sku: `DL-TEA-${platform}`, name: 'Чай', price: 500 });
    const number = `DL-${platform}-7`;
    await createOrder(world().ctx.prisma, customer.id, { number, items: [{ product: tea, quantity: 3, price: 500 }] });
    const p = make(world(), { firstName: 'Olga' });
    await p.start(`order_${number}`);
    expect(p.lastText()).toContain('доступен после входа');
    await p.login(phone);
    expect(p.lastText()).toContain(`Заказ №${number}`);
    expect(p.lastText()).toContain('Чай × 3');
  });

  it('product_<sku>: shows the card to a guest; "add" after login lands in the wishlist', async () => {
    const phone = newPhone(platform);
    const customer = await createCustomer(world().ctx.prisma, { phone });
    const sku = `DL-KTL-${platform}`;
    const kettle = await createProduct(world().ctx.prisma, { sku, name: 'Чайник <Pro> & Co', price: 2500, stock: 2 });
    const p = make(world(), { firstName: 'Pyotr' });
    await p.start(`product_${sku}`);
    expect(p.lastText()).toContain('Чайник <Pro> & Co');
    expect(p.lastText()).toContain(`Артикул: ${sku}`);
    await p.press(ru()('wishlist.product.add_button'));
    expect(p.lastText()).toContain('доступен после входа');
    await p.login(phone);
    expect(await world().ctx.prisma.wishlistItem.count({ where: { customerId: customer.id, productId: kettle.id } })).toBe(1);
    expect(p.lastText()).toContain('Чайник <Pro> & Co');
  });

  it('an unknown deep link says so and shows the menu', async () => {
    const p = make(world(), { firstName: 'Gleb' });
    await p.start('order_');
    expect(p.texts().join('\n')).toContain(ru()('errors.deep_link'));
    expect(p.lastText()).toContain('войдите по номеру телефона');
  });
});
