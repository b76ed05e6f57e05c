/**
 * A contact shared outside the login flow: an old "share phone" button tapped after a
 * restart, or after the flow expired. The same checks as the flow apply: a guest's own
 * contact logs them in; anyone else's (or one without user_id) is refused and the login
 * flow starts so the right button is at hand; a logged-in customer is told so and nothing
 * changes.
 */
import { Composer } from 'grammy';
import type { BotContext } from '../context.js';
import { isOwnContact, loginWithContact, REMOVE_KEYBOARD } from '../conversations/contact-login.conversation.js';
import { runNow, type BotKit } from '../kit.js';
import { mainMenu } from '../views/menu.view.js';
import { flowArgs, render } from './helpers.js';

export function createContactFeature(kit: BotKit): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  composer.on('message:contact', async (ctx) => {
    if (ctx.account.customerId) {
      await ctx.reply(ctx.t('auth.already'), REMOVE_KEYBOARD);
      return render(ctx, mainMenu(kit.view(ctx.lang), true), true);
    }
    const pending = ctx.session.pending;
    ctx.session.pending = undefined;
    if (!isOwnContact(ctx)) {
      await ctx.reply(ctx.t('auth.not_own'), REMOVE_KEYBOARD);
      return kit.startLogin(ctx, pending);
    }
    await loginWithContact(kit, runNow, ctx, { ...flowArgs(ctx), pending });
  });
  return composer;
}
