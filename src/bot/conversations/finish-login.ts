/**
 * After any login (a flow, or a contact shared outside one): do what the person came for
 * (a deep-linked order, a product to add) or show the menu. Login strategies of other
 * channels call this too.
 */
import { InlineKeyboard } from 'grammy';
import type { LoginResult } from '../../domain/customers/identities.js';
import { DomainError } from '../../errors.js';
import { profileCb } from '../keyboards/index.js';
import type { FlowContext } from '../context.js';
import type { BotKit, Run } from '../kit.js';
import { show } from '../render.js';
import { mainMenuMessage } from '../views/menu.view.js';
import { orderCard } from '../views/orders.view.js';
import type { Screen } from '../views/view.js';
import { productCard } from '../views/wishlist.view.js';
import type { LoginArgs } from './contact-login.conversation.js';

export async function finishLogin(kit: BotKit, run: Run, ctx: FlowContext, args: LoginArgs, customerId: string | null): Promise<void> {
  const view = kit.view(args.lang);
  const pending = args.pending;
  const showFresh = (screen: Screen) => show(ctx, screen.text, screen.keyboard, { fresh: true });
  if (customerId && pending?.kind === 'order') {
    const card = await run(() => kit.services.orders.card(customerId, { number: pending.number }));
    if (card.ok) return showFresh(orderCard(view, card.value, 0));
    await ctx.reply(view.t('orders.card.not_found'));
  }
  if (customerId && pending?.kind === 'wishlist_add') {
    const added = await run(async () => {
      await kit.services.wishlist.add(customerId, pending.productId);
      const product = await kit.services.wishlist.productById(pending.productId);
      const entry = await kit.services.wishlist.entry(customerId, pending.productId);
      if (!entry) throw new DomainError('not_found', 'Not in the wishlist');
      return { product, entry };
    });
    if (added.ok) {
      await ctx.reply(view.t('wishlist.added'));
      return showFresh(productCard(view, added.value.product, added.value.entry));
    }
  }
  await showFresh(mainMenuMessage(view, ctx.channel, customerId !== null));
}

/**
 * Right after a login succeeded, whatever proved the phone: says so in the customer's own
 * language (it wins over the messenger app's from here on), and for an account created just
 * now says that in plain words and asks about promotions — off until they say yes (the
 * answer is a ConsentEvent; the profile shows and changes it). Then `finishLogin`.
 */
export async function announceLogin(kit: BotKit, run: Run, ctx: FlowContext, args: LoginArgs, result: LoginResult): Promise<void> {
  const lang = kit.translator.resolveLanguage(result.language);
  const t = kit.translator.t(lang);
  const removeKeyboard = { reply_markup: { remove_keyboard: true as const } };
  await ctx.reply(result.created ? `${t('auth.success')}\n${t('auth.created_for_number')}` : t('auth.success'), removeKeyboard);
  if (result.created) {
    await ctx.reply(t('auth.consent.question'), {
      reply_markup: new InlineKeyboard()
        .text(t('auth.consent.yes'), profileCb.encode('consent', { on: true }))
        .text(t('auth.consent.no'), profileCb.encode('consent', { on: false })),
    });
  }
  await finishLogin(kit, run, ctx, { ...args, lang }, result.customerId);
}
