/**
 * VK's main menu is the persistent keyboard under the input field (issue 5): it appears with
 * the menu, follows login, and a tap on it works from anywhere — even in the middle of a flow,
 * which it leaves as a typed command would.
 */
import { describe, expect, it } from 'vitest';
import { createCustomer } from '../support/factories.js';
import { vkDriver } from './drivers.js';
import { phoneNumbers, useWorld } from './setup.js';
import { VK_GROUP } from './world.js';

const world = useWorld();
const newPhone = phoneNumbers('914');

describe('the VK menu keyboard', () => {
  const ru = () => world().ctx.translator.t('ru');
  const persistentLabels = (userId: number) => {
    const keyboard = world().vk.conversation(VK_GROUP, userId).keyboard;
    expect(keyboard?.inline ?? false).toBe(false);
    return keyboard?.buttons.flat().map((b) => b.label) ?? [];
  };

  it('shows the menu under the input field, follows login, and works from inside a flow', async () => {
    const phone = newPhone('vk');
    const customer = await createCustomer(world().ctx.prisma, { phone });
    const p = vkDriver(world(), { firstName: 'Menu' });
    const userId = Number(p.externalId);
    await p.start();
    expect(persistentLabels(userId)).toEqual([ru()('menu.orders'), ru()('menu.wishlist'), ru()('menu.loyalty'), ru()('menu.profile'), ru()('menu.help'), ru()('menu.login')]);

    await world().vk.pressButton(VK_GROUP, userId, ru()('menu.login')).delivered;
    expect(p.lastText()).toBe(ru()('otp.ask_phone'));
    await p.say(phone);
    await p.say(world().sms.lastCodeFor(phone)!);
    expect((await world().ctx.prisma.channelIdentity.findFirstOrThrow({ where: { platform: 'vk', externalId: p.externalId } })).customerId).toBe(customer.id);
    expect(persistentLabels(userId)).not.toContain(ru()('menu.login'));
    expect(persistentLabels(userId)).toContain(ru()('menu.orders'));

    // In the middle of the email question, the menu keyboard still works and the flow ends.
    await world().vk.pressButton(VK_GROUP, userId, ru()('menu.profile')).delivered;
    await p.press(ru()('profile.buttons.email'));
    expect(p.lastText()).toBe(ru()('profile.ask.email'));
    await world().vk.pressButton(VK_GROUP, userId, ru()('menu.orders')).delivered;
    expect(p.lastText()).toBe(ru()('orders.list.empty'));
    await p.say('not-an-email-and-not-an-answer');
    expect(p.lastText()).toContain(ru()('menu.free_text'));
    expect((await world().ctx.prisma.customer.findUniqueOrThrow({ where: { id: customer.id } })).email).toBeNull();

    // A language switch brings the keyboard in the new language.
    await p.say('/language');
    await p.press('English');
    expect(persistentLabels(userId)).toContain(world().ctx.translator.t('en')('menu.orders'));
    await world().vk.pressButton(VK_GROUP, userId, world().ctx.translator.t('en')('menu.loyalty')).delivered;
    expect(p.lastText()).toContain('Loyalty programme');
  });
});
