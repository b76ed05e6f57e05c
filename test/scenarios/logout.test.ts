/**
 * Logging out from settings, on both platforms: the messenger account is unlinked, the
 * customer and their data stay, account screens ask for login again, notifications stop
 * reaching that messenger, and logging in again restores everything.
 */
import { describe, expect, it } from 'vitest';
import type { Platform } from '../../src/channels/outbound.js';
import { createCustomer, createOrder, createProduct } from '../support/factories.js';
import { DRIVERS, type DriverFactory } from './drivers.js';
import { phoneNumbers, useWorld } from './setup.js';
import { VK_GROUP } from './world.js';

const world = useWorld();
const newPhone = phoneNumbers('919');

describe.each(DRIVERS)('logout on %s', (platform: Platform, make: DriverFactory) => {
  const ru = () => world().ctx.translator.t('ru');
  const identity = (externalId: string) => world().ctx.prisma.channelIdentity.findUniqueOrThrow({ where: { platform_externalId: { platform, externalId } } });

  it('unlinks this messenger only after confirmation; account screens ask for login; logging in again restores the account', async () => {
    const phone = newPhone(platform);
    const customer = await createCustomer(world().ctx.prisma, { phone });
    const tea = await createProduct(world().ctx.prisma, { sku: `LO-${platform}`, name: 'Чай' });
    await createOrder(world().ctx.prisma, customer.id, { number: `LO-${platform}-1`, items: [{ product: tea, quantity: 1, price: 100 }] });
    const p = make(world(), { firstName: 'Lev' });
    await p.start();
    await p.login(phone);

    await p.press(ru()('menu.profile'));
    await p.press(ru()('profile.buttons.logout'));
    expect(p.lastText()).toBe(ru()('auth.logout_confirm'));
    await p.press(ru()('menu.back'));
    expect((await identity(p.externalId)).customerId).toBe(customer.id);

    await p.press(ru()('profile.buttons.logout'));
    await p.press(ru()('auth.logout_yes'));
    expect(p.lastText()).toContain(ru()('auth.logged_out'));
    expect(p.buttons()).toContain(ru()('menu.login'));
    if (platform === 'vk') expect(world().vk.conversation(VK_GROUP, Number(p.externalId)).keyboard?.buttons.flat().map((b) => b.label)).toContain(ru()('menu.login'));
    expect((await identity(p.externalId)).customerId).toBeNull();
    expect(await world().ctx.prisma.order.count({ where: { customerId: customer.id } })).toBe(1);

    await p.press(ru()('menu.orders'));
    expect(p.lastText()).toContain('доступен после входа');

    await p.start();
    await p.login(phone);
    expect((await identity(p.externalId)).customerId).toBe(customer.id);
    await p.press(ru()('menu.orders'));
    expect(p.buttons().some((b) => b.includes(`LO-${platform}-1`))).toBe(true);
  });
});
