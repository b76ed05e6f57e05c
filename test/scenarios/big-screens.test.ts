/**
 * The biggest screens, written once and run on both platforms: three pages of orders and a
 * full wishlist (50 products with 120-character names). Every order and every product is
 * reachable — on VK through the bridge's page buttons when a screen has more buttons than a
 * VK inline keyboard holds — and no message exceeds a platform limit (the fake VK refuses
 * such calls with 911/914, the fake Telegram with "message is too long").
 */
import { describe, expect, it } from 'vitest';
import type { Platform } from '../../src/channels/outbound.js';
import { WISHLIST_MAX } from '../../src/domain/catalog/wishlist.service.js';
import { createCustomer, createOrder, createProduct } from '../support/factories.js';
import { DRIVERS, type DriverFactory } from './drivers.js';
import { VK_GROUP } from './world.js';
import { phoneNumbers, useWorld } from './setup.js';

const world = useWorld();
const newPhone = phoneNumbers('918');
const pad = (n: number) => String(n).padStart(2, '0');

describe.each(DRIVERS)('the biggest screens on %s', (platform: Platform, make: DriverFactory) => {
  const ru = () => world().ctx.translator.t('ru');

  async function loggedIn() {
    const phone = newPhone(platform);
    const customer = await createCustomer(world().ctx.prisma, { phone });
    const p = make(world(), { firstName: 'Big' });
    await p.start();
    await p.login(phone);
    return { p, customer };
  }

  function expectWithinLimits(texts: string[]) {
    for (const text of texts) expect(text.length).toBeLessThanOrEqual(4096);
    if (platform === 'vk') {
      const refused = world().vk.calls(VK_GROUP).filter((c) => c.error && [100, 911, 914].includes(c.error.error_code));
      expect(refused.map((c) => `${c.method}: ${c.error!.error_msg}`)).toEqual([]);
    }
  }

  it('every page of orders is reachable and every order opens', async () => {
    const { p, customer } = await loggedIn();
    const tea = await createProduct(world().ctx.prisma, { sku: `BIG-TEA-${platform}`, name: 'Чай', price: 500 });
    const prefix = `BIG${platform === 'vk' ? 'V' : 'T'}`;
    for (let i = 1; i <= 12; i++) {
      await createOrder(world().ctx.prisma, customer.id, { number: `${prefix}-${pad(i)}`, placedAt: new Date(Date.UTC(2026, 0, i)), items: [{ product: tea, quantity: 1, price: 500 }] });
    }
    await p.press(ru()('menu.orders'));
    const seen: string[] = [];
    for (let page = 1; page <= 3; page++) {
      expect(p.lastText()).toContain(`страница ${page} из 3`);
      seen.push(...p.buttons().map((b) => /№(\S+)/.exec(b)?.[1]).filter((n): n is string => !!n));
      if (page < 3) await p.press(ru()('orders.list.next'));
    }
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => `${prefix}-${pad(12 - i)}`));
    await p.press(`№${prefix}-01`);
    expect(p.lastText()).toContain(`Заказ №${prefix}-01`);
    expectWithinLimits(p.texts());
  });

  it(`a full wishlist (${WISHLIST_MAX} products with long names) pages through, and every product opens`, async () => {
    const { p, customer } = await loggedIn();
    const filler = ' — очень длинное название товара из каталога'.repeat(3);
    const names: string[] = [];
    for (let i = 1; i <= WISHLIST_MAX; i++) {
      const name = `Товар №${pad(i)}${filler}`.slice(0, 120);
      names.push(name);
      const product = await createProduct(world().ctx.prisma, { sku: `BIG-${platform}-${pad(i)}`, name, price: 100 + i, stock: i % 3 });
      await world().ctx.prisma.wishlistItem.create({ data: { customerId: customer.id, productId: product.id, priceAtAdd: String(100 + i), createdAt: new Date(Date.UTC(2026, 0, 1, 0, i)) } });
    }
    await p.press(ru()('menu.wishlist'));
    // VK: numbered lines and number buttons, six a page, so the list's own pager is the only one.
    const perPage = platform === 'vk' ? 6 : 10;
    const pages = Math.ceil(WISHLIST_MAX / perPage);
    expect(p.lastText()).toContain(`страница 1 из ${pages}`);
    const listed = new Set<string>();
    for (let page = 1; page <= pages; page++) {
      expect(p.lastText()).toContain(`страница ${page} из ${pages}`);
      const onPage = [...p.lastText().matchAll(/Товар №(\d\d)/g)].map((m) => m[1]!);
      expect(onPage).toHaveLength(Math.min(perPage, WISHLIST_MAX - (page - 1) * perPage));
      for (const n of onPage) listed.add(n);
      // The last product of the page (on VK by its number in the list).
      const last = names[Number(onPage.at(-1)) - 1]!;
      await p.press(platform === 'vk' ? String((page - 1) * perPage + onPage.length) : last);
      expect(p.lastText()).toContain(last);
      await p.press(ru()('wishlist.product.back_button'));
      for (let turn = 1; turn < page + (page < pages ? 1 : 0); turn++) await p.press(ru()('orders.list.next'));
    }
    expect(listed.size).toBe(WISHLIST_MAX);
    expectWithinLimits(p.texts());
  });
});
