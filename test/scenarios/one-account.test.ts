/**
 * One account across both messengers, through the real edges: a customer logged in on
 * Telegram logs in on VK with a code sent to their Telegram chat, sees the same wishlist,
 * and an order status change from the shop API reaches both chats. Plus the VK Callback
 * route's guarantees: forged secret, retried event, code refusals, message_deny.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { signRequest } from '../../src/lib/signature.js';
import { createCustomer, createProduct } from '../support/factories.js';
import { telegramDriver, vkDriver } from './drivers.js';
import { createWorld, SHOP_SECRET, TG_TOKEN, VK_GROUP, VK_SECRET, type World } from './world.js';

let world: World;
beforeAll(async () => {
  world = await createWorld({ workers: true });
});
afterAll(async () => {
  await world?.close();
});

const shopPost = (url: string, body: unknown) => {
  const raw = JSON.stringify(body);
  return world.app.inject({ method: 'POST', url, payload: raw, headers: { 'content-type': 'application/json', 'kabinet-signature': signRequest(SHOP_SECRET, { method: 'POST', path: url, body: raw }) } });
};
const ru = () => world.ctx.translator.t('ru');

describe('one account in Telegram and VK', () => {
  it('sends the VK login code to the Telegram chat, joins the same customer, and notifies both about an order', async () => {
    const phone = '+79165550101';
    const customer = await createCustomer(world.ctx.prisma, { phone, firstName: 'Нина' });
    const product = await createProduct(world.ctx.prisma, { sku: 'ONE-1', name: 'Заварник', price: 900 });
    const tg = telegramDriver(world, { firstName: 'Nina' });
    await tg.say('/start');
    await tg.login(phone);
    await tg.say('/start product_ONE-1');
    await tg.press(ru()('wishlist.product.add_button'));

    const vk = vkDriver(world, { firstName: 'Nina' });
    await vk.say('/start');
    await vk.press(ru()('menu.login'));
    await vk.say('8 916 555-01-01');
    expect(world.sms.sent.filter((m) => m.to === phone)).toHaveLength(0);
    const codeMessage = world.tg.chat(TG_TOKEN, Number(tg.externalId)).filter((m) => m.direction === 'out').at(-1)!;
    const code = /\b(\d{6})\b/.exec(codeMessage.text ?? '')?.[1];
    expect(code).toBeDefined();
    await vk.say(code!);
    const vkIdentity = await world.ctx.prisma.channelIdentity.findUniqueOrThrow({ where: { platform_externalId: { platform: 'vk', externalId: vk.externalId } } });
    expect(vkIdentity.customerId).toBe(customer.id);
    expect(await world.ctx.prisma.customer.count({ where: { phone } })).toBe(1);

    // Shared data: the wishlist made in Telegram shows in VK.
    await vk.press(ru()('menu.wishlist'));
    expect(vk.lastText()).toContain(product.name);

    const order = await shopPost('/api/v1/orders', {
      eventId: 'one-order-1',
      order: { number: 'ONE-1', customerPhone: phone, status: 'paid', itemsTotal: 900, total: 900, placedAt: '2026-02-01T10:00:00Z', items: [{ sku: 'ONE-1', name: 'Заварник', quantity: 1, price: 900 }] },
    });
    expect(order.statusCode).toBe(200);
    const status = await shopPost('/api/v1/orders/ONE-1/status', { eventId: 'one-ship-1', status: 'shipped', occurredAt: '2026-02-02T10:00:00Z', carrier: 'CDEK', trackingNumber: 'TRK-77', trackingUrl: 'https://track.example/TRK-77' });
    expect(status.statusCode).toBe(200);
    await vi.waitFor(async () => {
      expect(await world.ctx.prisma.notification.count({ where: { customerId: customer.id, status: 'pending' } })).toBe(0);
    }, { timeout: 15_000, interval: 50 });
    const sent = await world.ctx.prisma.notification.findMany({ where: { customerId: customer.id }, include: { identity: true } });
    expect(new Set(sent.filter((n) => n.status === 'sent').map((n) => n.identity.platform))).toEqual(new Set(['telegram', 'vk']));
    expect(world.vk.conversation(VK_GROUP, Number(vk.externalId)).messages.some((m) => m.out && m.text.includes('ONE-1') && m.text.includes('TRK-77'))).toBe(true);
    expect(tg.texts().some((t) => t.includes('ONE-1') && t.includes('TRK-77'))).toBe(true);
  });
});

describe('VK Callback API route', () => {
  const post = (body: Record<string, unknown>) => world.app.inject({ method: 'POST', url: '/vk/callback', payload: body });

  it('refuses a forged secret and handles nothing', async () => {
    const userId = 880_001;
    world.vk.createUser({ id: userId, firstName: 'Mallory' });
    const event = { type: 'message_new', group_id: VK_GROUP, event_id: 'forged-1', v: '5.199', secret: 'not-the-secret', object: { message: { id: 1, date: 1, peer_id: userId, from_id: userId, text: '/start', conversation_message_id: 1 } } };
    const res = await post(event);
    expect(res.statusCode).toBe(403);
    expect(res.body).toBe('forbidden');
    expect(await post({ ...event, secret: undefined })).toMatchObject({ statusCode: 403 });
    expect(await world.ctx.prisma.channelIdentity.count({ where: { platform: 'vk', externalId: String(userId) } })).toBe(0);
    expect(world.vk.conversation(VK_GROUP, userId).messages).toHaveLength(0);
    // The confirmation request is answered with the code.
    expect((await post({ type: 'confirmation', group_id: VK_GROUP })).body).toBe('confirm-7005');
  });

  it('handles a retried event (same event_id) once', async () => {
    const vk = vkDriver(world, { firstName: 'Repeat' });
    const action = world.vk.sendText(VK_GROUP, Number(vk.externalId), '/start');
    await action.delivered;
    const before = vk.texts().length;
    expect(before).toBe(1);
    const again = await post({ ...action.event });
    expect(again.statusCode).toBe(200);
    expect(again.body).toBe('ok');
    expect(vk.texts()).toHaveLength(before);
    // A different event id with the same content is a new message and is answered.
    await post({ ...action.event, event_id: createHash('sha1').update('other').digest('hex').slice(0, 12), secret: VK_SECRET });
    expect(vk.texts()).toHaveLength(before + 1);
  });

  it('refuses a wrong code, then too many attempts; a fresh code after the cooldown logs in', async () => {
    const phone = '+79165550202';
    const vk = vkDriver(world, { firstName: 'Guess' });
    await vk.say('/start');
    await vk.press(ru()('menu.login'));
    await vk.say(phone);
    const code = world.sms.lastCodeFor(phone)!;
    expect(code).toMatch(/^\d{6}$/);
    const wrong = code === '000000' ? '111111' : '000000';
    await vk.say(wrong);
    expect(vk.lastText()).toBe(ru()('otp.wrong_code', { left: 4 }));
    for (let i = 0; i < 4; i++) await vk.say(wrong);
    expect(vk.lastText()).toBe(ru()('otp.too_many_attempts'));
    // The right code no longer works: attempts are used up.
    await vk.say(code);
    expect(vk.lastText()).toBe(ru()('otp.too_many_attempts'));
    const identity = await world.ctx.prisma.channelIdentity.findUniqueOrThrow({ where: { platform_externalId: { platform: 'vk', externalId: vk.externalId } } });
    expect(identity.customerId).toBeNull();
    // Resending at once is refused by the cooldown (and sends nothing).
    const sentBefore = world.sms.sent.length;
    await vk.press(ru()('otp.resend'));
    expect(vk.lastText()).toMatch(/Новый код можно запросить через \d+ с\./);
    expect(world.sms.sent.length).toBe(sentBefore);
    await world.ctx.redis.del(`${world.ctx.config.redisKeyPrefix}otp:cooldown:${identity.id}:${phone}`);
    await vk.press(ru()('otp.resend'));
    const fresh = world.sms.lastCodeFor(phone)!;
    await vk.say(fresh);
    expect((await world.ctx.prisma.channelIdentity.findUniqueOrThrow({ where: { id: identity.id } })).customerId).not.toBeNull();
  });

  it('marks the identity blocked on message_deny and unblocks on message_allow', async () => {
    const vk = vkDriver(world, { firstName: 'Deny' });
    await vk.say('/start');
    await world.vk.denyMessages(VK_GROUP, Number(vk.externalId)).delivered;
    const where = { platform_externalId: { platform: 'vk' as const, externalId: vk.externalId } };
    expect((await world.ctx.prisma.channelIdentity.findUniqueOrThrow({ where })).blockedAt).not.toBeNull();
    await world.vk.allowMessages(VK_GROUP, Number(vk.externalId)).delivered;
    expect((await world.ctx.prisma.channelIdentity.findUniqueOrThrow({ where })).blockedAt).toBeNull();
  });
});
