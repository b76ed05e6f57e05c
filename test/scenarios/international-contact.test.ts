/**
 * A Telegram contact's phone is international, usually without "+": shared digits that a
 * Russian reading would turn into another customer's number must log into (or create) the
 * account of the number they really are — through the real webhook, the fake Telegram and
 * the fake VK — and never into the look-alike Russian customer.
 */
import { describe, expect, it } from 'vitest';
import { TG_TOKEN } from './world.js';
import { createCustomer, createOrder, createProduct } from '../support/factories.js';
import { telegramDriver, vkDriver } from './drivers.js';
import { useWorld } from './setup.js';

const world = useWorld();

const CASES: Array<[country: string, shared: string, international: string, russian: string]> = [
  ['Vietnam', '84951234567', '+84951234567', '+74951234567'],
  ['Vietnam (with +)', '+84987654321', '+84987654321', '+74987654321'],
  ['Italy', '3902123456', '+3902123456', '+73902123456'],
  ['Germany', '4930123456', '+4930123456', '+74930123456'],
  ['Germany (Ivanovo look-alike)', '4932123456', '+4932123456', '+74932123456'],
];

describe('a shared Telegram contact is read as an international number', () => {
  const prisma = () => world().ctx.prisma;
  const identityOf = (externalId: string) => prisma().channelIdentity.findUniqueOrThrow({ where: { platform_externalId: { platform: 'telegram', externalId } } });

  it.each(CASES)('%s: %s is %s, never the Russian customer %s', async (_country, shared, international, russian) => {
    const victim = await createCustomer(prisma(), { phone: russian, firstName: 'Владелец' });
    const product = await createProduct(prisma(), { sku: `V-${russian.slice(1)}`, name: 'Чайник' });
    await createOrder(prisma(), victim.id, { number: `VICTIM-${russian.slice(1)}`, items: [{ product, quantity: 1, price: 1000 }] });
    const stranger = telegramDriver(world(), { firstName: 'Traveller' });
    await stranger.start();
    await stranger.login(shared);

    const identity = await identityOf(stranger.externalId);
    expect(identity.customerId).not.toBeNull();
    expect(identity.customerId).not.toBe(victim.id);
    const own = await prisma().customer.findUniqueOrThrow({ where: { id: identity.customerId! } });
    expect(own.phone).toBe(international);
    expect(await prisma().channelIdentity.count({ where: { customerId: victim.id } })).toBe(0);
    // The stranger's account shows none of the victim's orders.
    await stranger.press(world().ctx.translator.t('ru')('menu.orders'));
    expect(stranger.texts().join('\n')).not.toContain('VICTIM-');
  });

  it("the Russian owner's VK login code then goes by SMS to the owner, not to the look-alike's Telegram chat", async () => {
    const owner = await createCustomer(prisma(), { phone: '+74951112233', firstName: 'Ольга' });
    const stranger = telegramDriver(world(), { firstName: 'Minh' });
    await stranger.start();
    await stranger.login('84951112233');
    expect((await identityOf(stranger.externalId)).customerId).not.toBe(owner.id);
    const strangerChatBefore = world().tg.chat(TG_TOKEN, Number(stranger.externalId)).length;

    const vk = vkDriver(world(), { firstName: 'Ольга' });
    await vk.start();
    await vk.login('8 495 111-22-33');
    expect(world().sms.sent.some((m) => m.to === '+74951112233')).toBe(true);
    expect(world().tg.chat(TG_TOKEN, Number(stranger.externalId)).length).toBe(strangerChatBefore);
    const vkIdentity = await prisma().channelIdentity.findUniqueOrThrow({ where: { platform_externalId: { platform: 'vk', externalId: vk.externalId } } });
    expect(vkIdentity.customerId).toBe(owner.id);
  });

  it('a Kazakh +7 number is the same number either way and joins its customer', async () => {
    const kz = await createCustomer(prisma(), { phone: '+77011234567', firstName: 'Айгерим' });
    const person = telegramDriver(world(), { firstName: 'Aigerim' });
    await person.start();
    await person.login('77011234567');
    expect((await identityOf(person.externalId)).customerId).toBe(kz.id);
  });

  it('a contact in a national form (no country code) is refused, nothing is linked', async () => {
    const owner = await createCustomer(prisma(), { phone: '+79126667788' });
    const person = telegramDriver(world(), { firstName: 'Odd' });
    await person.start();
    await person.login('89126667788');
    expect(person.lastText()).toBe(world().ctx.translator.t('ru')('auth.bad_phone'));
    expect((await identityOf(person.externalId)).customerId).toBeNull();
    expect(await prisma().channelIdentity.count({ where: { customerId: owner.id } })).toBe(0);
  });
});
