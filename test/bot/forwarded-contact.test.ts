/**
 * A forwarded contact card proves nothing about who is writing: login refuses it, in the flow
 * and outside it, even when the card's user_id is the sender's own (a forward keeps the
 * original card, so only `forward_origin` tells it apart). Through the webhook and the fake
 * Telegram, which sends the forward with Bot API 7 `forward_origin`.
 */
import { describe, expect, it } from 'vitest';
import { menuCb } from '../../src/bot/keyboards/index.js';
import { createCustomer } from '../support/factories.js';
import { person, TOKEN, useHarness } from './harness.js';

const harness = useHarness();

const identityOf = (userId: number) => harness().ctx.prisma.channelIdentity.findUniqueOrThrow({ where: { platform_externalId: { platform: 'telegram', externalId: String(userId) } } });

/** Sends a contact card as a forward from `from` (another person's chat), then waits for the bot. */
async function forwardContact(userId: number, from: { id: number; is_bot: boolean; first_name: string }, contact: { phone: string; firstName: string; userId: number }) {
  const h = harness();
  h.fake.sendContact(TOKEN, userId, contact, { forwardOrigin: { type: 'user', date: Math.floor(Date.now() / 1000) - 3600, sender_user: from } });
  await h.fake.waitForDelivery(TOKEN, { timeoutMs: 15_000 });
}

describe('a forwarded contact at login', () => {
  it('is refused inside the login flow, links nothing, and the flow keeps waiting for the own contact', async () => {
    const victim = await createCustomer(harness().ctx.prisma, { phone: '+79165550701' });
    const mine = await createCustomer(harness().ctx.prisma, { phone: '+79165550702' });
    const eve = person(harness(), { firstName: 'Eve' });
    const vera = harness().fake.createUser({ firstName: 'Vera' });
    await eve.say('/start');
    await eve.press(menuCb.encode('login'));

    for (const userId of [vera.id, eve.user.id]) {
      await forwardContact(eve.user.id, vera, { phone: '+79165550701', firstName: 'Vera', userId });
      expect(eve.lastText()).toContain('Это не ваш контакт');
      expect((await identityOf(eve.user.id)).customerId).toBeNull();
    }
    expect(await harness().ctx.prisma.channelIdentity.count({ where: { customerId: victim.id } })).toBe(0);

    await eve.shareContact({ phone: '+79165550702', firstName: 'Eve' });
    expect((await identityOf(eve.user.id)).customerId).toBe(mine.id);
  });

  it('is refused outside the flow (no login waiting), links nothing and offers the share button', async () => {
    const victim = await createCustomer(harness().ctx.prisma, { phone: '+79165550703' });
    const mallory = person(harness(), { firstName: 'Mallory' });
    const vera = harness().fake.createUser({ firstName: 'Vera' });
    await mallory.say('/start');

    await forwardContact(mallory.user.id, vera, { phone: '+79165550703', firstName: 'Vera', userId: mallory.user.id });
    expect(mallory.botTexts().some((t) => t.includes('Это не ваш контакт'))).toBe(true);
    expect(JSON.stringify([...mallory.chat()].at(-1)!.replyMarkup)).toContain('"request_contact":true');
    expect((await identityOf(mallory.user.id)).customerId).toBeNull();
    expect(await harness().ctx.prisma.channelIdentity.count({ where: { customerId: victim.id } })).toBe(0);
  });
});
