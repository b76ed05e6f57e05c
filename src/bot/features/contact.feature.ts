/**
 * A phone outside the login flow.
 * - A shared contact (an old "share phone" button tapped after a restart, or after the flow
 *   expired): the same checks as the flow. A guest's own contact logs them in; anyone
 *   else's (or one without user_id) is refused and the login flow starts so the right button
 *   is at hand; a logged-in customer is told so and nothing changes. A login held back as a
 *   possibly recycled number continues in the login flow, at its owner check.
 * - A guest typing a phone number (what VK's login asks for): the login starts with it — on
 *   VK a code goes out at once; where contacts can be shared, the share button is offered,
 *   since a typed number proves nothing.
 */
import { Composer } from 'grammy';
import { FlatComposer } from '../sequence.js';
import { isValidPhone } from '../../domain/customers/phone.js';
import type { BotContext } from '../context.js';
import { CONTACT_LOGIN_CONVERSATION, isOwnContact, loginWithContact, REMOVE_KEYBOARD, type LoginArgs } from '../conversations/contact-login.conversation.js';
import { runNow, type BotKit } from '../kit.js';
import { flowArgs, showMainMenu } from './helpers.js';

const LOOKS_LIKE_PHONE = /^\+?[\d\s().\-–]{10,24}$/;

export function createContactFeature(kit: BotKit): Composer<BotContext> {
  const composer = new FlatComposer<BotContext>();
  composer.on('message:contact', async (ctx) => {
    if (ctx.account.customerId) {
      await ctx.reply(ctx.t('auth.already'), REMOVE_KEYBOARD);
      return showMainMenu(kit, ctx, { fresh: true });
    }
    const pending = ctx.session.pending;
    ctx.session.pending = undefined;
    if (!isOwnContact(ctx)) {
      await ctx.reply(ctx.t('auth.not_own'), REMOVE_KEYBOARD);
      return kit.startLogin(ctx, pending);
    }
    const args: LoginArgs = { ...flowArgs(ctx), pending };
    const outcome = await loginWithContact(kit, runNow, ctx, args);
    // Held back as a possibly recycled number: the login flow asks the owner check.
    if (typeof outcome === 'object') await ctx.conversation.enter(CONTACT_LOGIN_CONVERSATION, { ...args, ownerCheck: outcome });
  });
  composer.on('message:text', async (ctx, next) => {
    const text = ctx.message.text.trim();
    if (ctx.account.customerId || !LOOKS_LIKE_PHONE.test(text) || !isValidPhone(text)) return next();
    const pending = ctx.session.pending;
    ctx.session.pending = undefined;
    return kit.startLogin(ctx, pending, text);
  });
  return composer;
}
