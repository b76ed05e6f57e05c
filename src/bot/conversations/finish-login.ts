/**
 * After any login flow: do what the person came for (a deep-linked order, a product to add)
 * or show the menu. Login strategies of other channels call this too.
 */
import { DomainError } from '../../errors.js';
import type { FlowContext } from '../context.js';
import { attempt, type BotKit, type Flow } from '../kit.js';
import { show } from '../render.js';
import { mainMenu } from '../views/menu.view.js';
import { orderCard } from '../views/orders.view.js';
import { productCard } from '../views/wishlist.view.js';
import type { LoginArgs } from './contact-login.conversation.js';

export async function finishLogin(kit: BotKit, conversation: Flow, ctx: FlowContext, args: LoginArgs, customerId: string | null): Promise<void> {
  const view = kit.view(args.lang);
  const pending = args.pending;
  if (customerId && pending?.kind === 'order') {
    const card = await attempt(conversation, () => kit.services.orders.card(customerId, { number: pending.number }));
    if (card.ok) return show(ctx, ...spread(orderCard(view, card.value, 0)), { fresh: true });
    await ctx.reply(view.t('orders.card.not_found'));
  }
  if (customerId && pending?.kind === 'wishlist_add') {
    const added = await attempt(conversation, async () => {
      await kit.services.wishlist.add(customerId, pending.productId);
      const product = await kit.services.wishlist.productById(pending.productId);
      const entry = await kit.services.wishlist.entry(customerId, pending.productId);
      if (!entry) throw new DomainError('not_found', 'Not in the wishlist');
      return { product, entry };
    });
    if (added.ok) {
      await ctx.reply(view.t('wishlist.added'));
      return show(ctx, ...spread(productCard(view, added.value.product, added.value.entry)), { fresh: true });
    }
  }
  const menu = mainMenu(view, customerId !== null);
  await show(ctx, menu.text, menu.keyboard, { fresh: true });
}

const spread = (s: { text: string; keyboard: import('grammy').InlineKeyboard }) => [s.text, s.keyboard] as const;
