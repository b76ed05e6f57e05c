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
    expect(p.buttons()).toContain(ru()('menu.login'));
    expect((await identity(p.externalId)).customerId).toBeNull();

    await p.press(ru()('menu.orders'));
    expect(p.lastText()).toContain('доступен после входа');

    await p.login(phone);
    expect((await identity(p.externalId)).customerId).toBe(existing.id);
    expect(p.texts().some((t) => t.includes('вы вошли'))).toBe(true);
    expect(p.lastText()).toContain('Личный кабинет');
    expect(p.buttons()).not.toContain(ru()('menu.login'));
  });
});
