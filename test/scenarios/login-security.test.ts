/**
 * Login security through the real edges: the code reply says the same words whoever owns
 * the phone, and a possibly recycled number (a new messenger account on a customer nobody
 * logged into for months) must pass the owner check before it sees anything.
 */
import { describe, expect, it } from 'vitest';
import { createCustomer, createOrder, createProduct } from '../support/factories.js';
import { telegramDriver, vkDriver } from './drivers.js';
import { useWorld } from './setup.js';
import { TG_TOKEN } from './world.js';

const world = useWorld();
const ru = () => world().ctx.translator.t('ru');
const DAY = 86_400_000;

describe('one-time code replies', () => {
  it('are the same words whether the phone belongs to a Telegram customer or to nobody', async () => {
    const tgPhone = '+79160001101';
    await createCustomer(world().ctx.prisma, { phone: tgPhone });
    const owner = telegramDriver(world(), { firstName: 'Owner' });
    await owner.start();
    await owner.login(tgPhone);

    const probeA = vkDriver(world(), { firstName: 'Probe' });
    await probeA.start();
    await probeA.press(ru()('menu.login'));
    await probeA.say(tgPhone);
    const probeB = vkDriver(world(), { firstName: 'Probe' });
    await probeB.start();
    await probeB.press(ru()('menu.login'));
    await probeB.say('+79160001102');

    const mask = (s: string) => s.replace(/\+7\*+\d\d/g, 'PHONE');
    expect(mask(probeA.lastText())).toBe(mask(probeB.lastText()));
    expect(probeA.lastText()).not.toMatch(/telegram-чат|в ваш чат/i);
    expect(probeA.buttons()).toEqual(probeB.buttons());
  });
});

describe('one-time code limits on VK', () => {
  it("throwaway accounts are refused once they spent the phone's strangers' budget; the owner's own account still logs in", async () => {
    const phone = '+79160001201';
    const customer = await createCustomer(world().ctx.prisma, { phone });
    const owner = vkDriver(world(), { firstName: 'Owner' });
    await owner.start();
    await owner.login(phone);
    await owner.press(ru()('menu.profile'));
    await owner.press(ru()('profile.buttons.logout'));
    await owner.press(ru()('auth.logout_yes'));
    expect((await world().ctx.prisma.channelIdentity.findUniqueOrThrow({ where: { platform_externalId: { platform: 'vk', externalId: owner.externalId } } })).customerId).toBeNull();

    let refusedAt = -1;
    for (let i = 0; i < 12 && refusedAt < 0; i++) {
      const stranger = vkDriver(world(), { firstName: 'Bot' });
      await stranger.start();
      await stranger.press(ru()('menu.login'));
      await stranger.say('8 916 000-12-01');
      if (stranger.lastText().startsWith(ru()('otp.too_many_requests', { minutes: 0 }).split('0')[0]!)) refusedAt = i;
    }
    expect(refusedAt).toBeGreaterThanOrEqual(0);
    const smsBefore = world().sms.sent.length;
    await owner.login(phone);
    expect(world().sms.sent.length).toBe(smsBefore + 1);
    expect((await world().ctx.prisma.channelIdentity.findUniqueOrThrow({ where: { platform_externalId: { platform: 'vk', externalId: owner.externalId } } })).customerId).toBe(customer.id);
  });
});

describe('recycled numbers', () => {
  async function dormantCustomer(phone: string, extra: { email?: string; order?: string } = {}) {
    const { prisma } = world().ctx;
    const customer = await createCustomer(prisma, { phone, firstName: 'Прежний', email: extra.email ?? null });
    if (extra.order) {
      const product = await createProduct(prisma, { sku: `RC-${extra.order}`, name: 'Товар' });
      await createOrder(prisma, customer.id, { number: extra.order, items: [{ product, quantity: 1, price: 100 }] });
    }
    const longAgo = new Date(Date.now() - 400 * DAY);
    const old = await prisma.channelIdentity.create({
      data: { platform: 'telegram', externalId: `old-${phone}`, chatId: `old-${phone}`, customerId: null, lastSeenAt: longAgo, createdAt: longAgo },
    });
    await prisma.customerLogin.create({ data: { identityId: old.id, customerId: customer.id, method: 'contact', createdAt: longAgo } });
    return customer;
  }
  const identityOf = (platform: 'telegram' | 'vk', externalId: string) =>
    world().ctx.prisma.channelIdentity.findUniqueOrThrow({ where: { platform_externalId: { platform, externalId } } });

  it('Telegram: the new holder of a dormant number is asked what only the owner knows; wrong answers link nothing', async () => {
    const phone = '+79160002201';
    const customer = await dormantCustomer(phone, { email: 'owner@example.com', order: 'RC-1001' });
    const holder = telegramDriver(world(), { firstName: 'Newholder' });
    await holder.start();
    await holder.login(phone);
    expect(holder.lastText()).toBe(ru()('auth.owner_check'));
    expect((await identityOf('telegram', holder.externalId)).customerId).toBeNull();
    await holder.say('guess@example.com');
    expect(holder.lastText()).toBe(ru()('auth.owner_check_wrong', { left: 2 }));
    await holder.say('1001');
    await holder.say('RC-1000');
    const locked = () => holder.texts().filter((t) => t === ru()('auth.owner_check_locked')).length;
    expect(locked()).toBe(1);
    expect((await identityOf('telegram', holder.externalId)).customerId).toBeNull();
    // Sharing the contact again does not buy new attempts.
    await holder.login(phone);
    expect(holder.lastText()).toBe(ru()('auth.owner_check'));
    await holder.say('owner@example.com');
    expect(locked()).toBe(2);
    expect((await identityOf('telegram', holder.externalId)).customerId).toBeNull();
    expect(await world().ctx.prisma.channelIdentity.count({ where: { customerId: customer.id } })).toBe(0);
  });

  it('Telegram: the owner on a new account answers with an order number and is in', async () => {
    const phone = '+79160002202';
    const customer = await dormantCustomer(phone, { order: 'RC-2002' });
    const owner = telegramDriver(world(), { firstName: 'Owner' });
    await owner.start();
    await owner.login(phone);
    expect(owner.lastText()).toBe(ru()('auth.owner_check'));
    await owner.say(' rc-2002 ');
    expect(owner.texts()).toContain(ru()('auth.success'));
    expect((await identityOf('telegram', owner.externalId)).customerId).toBe(customer.id);
    // Known from now on: the next login asks nothing.
    const logins = await world().ctx.prisma.customerLogin.findMany({ where: { customerId: customer.id }, orderBy: { createdAt: 'asc' } });
    expect(logins.map((l) => l.method)).toEqual(['contact', 'confirmed']);
  });

  it('VK: after a correct code the owner check follows, and an email answer logs in', async () => {
    const phone = '+79160002203';
    const customer = await dormantCustomer(phone, { email: 'Owner.Three@Example.com' });
    const vk = vkDriver(world(), { firstName: 'Owner' });
    await vk.start();
    await vk.login(phone);
    expect(vk.lastText()).toBe(ru()('auth.owner_check'));
    expect((await identityOf('vk', vk.externalId)).customerId).toBeNull();
    await vk.say('owner.three@example.com');
    expect((await identityOf('vk', vk.externalId)).customerId).toBe(customer.id);
  });

  it('Telegram: a contact shared outside the login flow leads to the same owner check', async () => {
    const phone = '+79160002206';
    const customer = await dormantCustomer(phone, { email: 'six@example.com' });
    const owner = telegramDriver(world(), { firstName: 'Owner' });
    await owner.start();
    world().tg.sendContact(TG_TOKEN, Number(owner.externalId), { phone: phone.slice(1), firstName: 'Owner' });
    await world().tg.waitForDelivery(TG_TOKEN, { timeoutMs: 15_000 });
    expect(owner.lastText()).toBe(ru()('auth.owner_check'));
    expect((await identityOf('telegram', owner.externalId)).customerId).toBeNull();
    await owner.say('six@example.com');
    expect((await identityOf('telegram', owner.externalId)).customerId).toBe(customer.id);
  });

  it('a dormant account with nothing to ask about is not handed over', async () => {
    const phone = '+79160002204';
    const customer = await dormantCustomer(phone);
    const holder = telegramDriver(world(), { firstName: 'Newholder' });
    await holder.start();
    await holder.login(phone);
    expect(holder.texts()).toContain(ru()('auth.owner_check_unavailable'));
    expect(await world().ctx.prisma.channelIdentity.count({ where: { customerId: customer.id } })).toBe(0);
  });

  it('an account active recently, or one the shop made and nobody logged into, logs in as before', async () => {
    const fresh = await createCustomer(world().ctx.prisma, { phone: '+79160002205' });
    const person = telegramDriver(world(), { firstName: 'First' });
    await person.start();
    await person.login('+79160002205');
    expect((await identityOf('telegram', person.externalId)).customerId).toBe(fresh.id);
    const second = telegramDriver(world(), { firstName: 'Second' });
    await second.start();
    await second.login('+79160002205');
    expect((await identityOf('telegram', second.externalId)).customerId).toBe(fresh.id);
  });
});
