/**
 * Hostile VK input through the Callback route: payloads that are not JSON, too long, or
 * forged to point at another customer's order. Each gets a polite answer and changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { ordersCb } from '../../src/bot/keyboards/index.js';
import { createCustomer, createOrder, createProduct } from '../support/factories.js';
import { vkDriver } from './drivers.js';
import { useWorld } from './setup.js';
import { VK_GROUP } from './world.js';

const world = useWorld();

describe('hostile VK payloads', () => {
  const ru = () => world().ctx.translator.t('ru');

  it('a text message with a payload that is not JSON, or is huge, is read as the text it carries', async () => {
    const p = vkDriver(world(), { firstName: 'Hostile' });
    await p.start();
    const userId = Number(p.externalId);
    await world().vk.sendText(VK_GROUP, userId, 'привет', { payload: '{not json' }).delivered;
    expect(p.lastText()).toContain(ru()('menu.free_text'));
    await world().vk.sendText(VK_GROUP, userId, 'привет', { payload: JSON.stringify({ x: 'я'.repeat(5000) }) }).delivered;
    expect(p.lastText()).toContain(ru()('menu.free_text'));
    expect((await world().ctx.prisma.channelIdentity.findFirstOrThrow({ where: { platform: 'vk', externalId: p.externalId } })).customerId).toBeNull();
  });

  it('a callback whose payload is not JSON, too long or forged gets a polite snackbar; another customer\'s order stays hidden', async () => {
    const p = vkDriver(world(), { firstName: 'Forger' });
    const phone = '+79169990011';
    const mine = await createCustomer(world().ctx.prisma, { phone });
    const victim = await createCustomer(world().ctx.prisma, { phone: '+79169990012' });
    const product = await createProduct(world().ctx.prisma, { sku: 'VKH-1', name: 'Чай' });
    const order = await createOrder(world().ctx.prisma, victim.id, { number: 'VKH-VICTIM', items: [{ product, quantity: 1, price: 100 }] });
    await p.start();
    await p.login(phone);
    const userId = Number(p.externalId);
    const cmid = world().vk.conversation(VK_GROUP, userId).messages.filter((m) => m.out).at(-1)!.conversationMessageId;
    const snackbars = () => world().vk.conversation(VK_GROUP, userId).eventAnswers;

    const payloads: unknown[] = ['not json', '{"d":', { d: 'x'.repeat(300) }, { t: 'no-such-token' }, { unexpected: true }, { d: ordersCb.encode('card', { id: order.id, page: 0 }) }];
    for (const payload of payloads) {
      const before = snackbars().length;
      await world().vk.pressCallback(VK_GROUP, userId, cmid, payload).delivered;
      expect(snackbars().length, JSON.stringify(payload)).toBe(before + 1);
      const text = String((snackbars().at(-1)!.eventData as { text?: string } | null)?.text ?? '');
      expect([ru()('errors.stale_button'), ru()('errors.not_found')], JSON.stringify(payload)).toContain(text);
    }
    expect(world().vk.conversation(VK_GROUP, userId).messages.map((m) => m.text).join('\n')).not.toContain('VKH-VICTIM');
    expect((await world().ctx.prisma.channelIdentity.findFirstOrThrow({ where: { platform: 'vk', externalId: p.externalId } })).customerId).toBe(mine.id);
  });

  it('a page button of an expired keyboard gets a polite answer from the brain, not silence', async () => {
    const p = vkDriver(world(), { firstName: 'Pager' });
    await p.start();
    const userId = Number(p.externalId);
    const cmid = world().vk.conversation(VK_GROUP, userId).messages.filter((m) => m.out).at(-1)!.conversationMessageId;
    const expired = { vkp: 'expiredPagesToken01', n: 1 };
    await world().vk.pressCallback(VK_GROUP, userId, cmid, expired).delivered;
    const snackbar = world().vk.conversation(VK_GROUP, userId).eventAnswers.at(-1);
    expect((snackbar?.eventData as { text?: string } | null)?.text).toBe(ru()('errors.stale_button'));
    const sent = world().vk.conversation(VK_GROUP, userId).messages.length;
    await world().vk.sendText(VK_GROUP, userId, '▶ 2/3', { payload: expired }).delivered;
    expect(world().vk.conversation(VK_GROUP, userId).messages.length).toBeGreaterThan(sent + 1);
    expect(p.lastText()).toContain(ru()('menu.free_text'));
  });
});
