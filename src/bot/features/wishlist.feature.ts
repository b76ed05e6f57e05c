/** The wishlist: list, product cards, add (deep link or search), remove, stock and price alerts. */
import { Composer } from 'grammy';
import { FlatComposer } from '../sequence.js';
import { isDomainError } from '../../errors.js';
import type { BotContext } from '../context.js';
import { PRODUCT_SEARCH_CONVERSATION } from '../conversations/product-search.conversation.js';
import type { BotKit } from '../kit.js';
import { wishlistCb } from '../keyboards/index.js';
import { loginRequired } from '../views/menu.view.js';
import { productCard, wishlistScreen } from '../views/wishlist.view.js';
import { flowArgs, render, requireCustomer, staleButton, toast } from './helpers.js';

export function createWishlistFeature(kit: BotKit): Composer<BotContext> {
  const composer = new FlatComposer<BotContext>();
  const { wishlist } = kit.services;

  const card = async (ctx: BotContext, productId: string) => {
    const product = await wishlist.productById(productId);
    const entry = ctx.account.customerId ? await wishlist.entry(ctx.account.customerId, productId) : null;
    return render(ctx, productCard(kit.view(ctx.lang), product, entry));
  };

  // Channels with few, short buttons (VK) number the items in the text; the buttons carry numbers.
  const listScreen = async (ctx: BotContext, customerId: string, page = 0) =>
    wishlistScreen(kit.view(ctx.lang), await wishlist.list(customerId), page, { compact: ctx.channel.capabilities.maxInlineButtons !== undefined });

  const showList = async (ctx: BotContext, page = 0) => {
    const customerId = await requireCustomer(kit, ctx);
    if (customerId) await render(ctx, await listScreen(ctx, customerId, page));
  };

  composer.command('wishlist', (ctx) => showList(ctx));

  composer.callbackQuery(wishlistCb.pattern, async (ctx) => {
    const a = wishlistCb.decode(ctx.callbackQuery.data);
    if (!a) return staleButton(ctx);
    switch (a.action) {
      case 'list':
        return showList(ctx);
      case 'page':
        return showList(ctx, a.page);
      case 'item':
        return card(ctx, a.id);
      case 'search':
        await ctx.answerCallbackQuery();
        return ctx.conversation.enter(PRODUCT_SEARCH_CONVERSATION, flowArgs(ctx));
      case 'add': {
        if (!ctx.account.customerId) {
          // Remember it: after login the product goes into the wishlist.
          ctx.session.pending = { kind: 'wishlist_add', productId: a.id };
          return render(ctx, loginRequired(kit.view(ctx.lang)));
        }
        try {
          const { added } = await wishlist.add(ctx.account.customerId, a.id);
          await toast(ctx, ctx.t(added ? 'wishlist.added' : 'wishlist.already'));
        } catch (err) {
          if (isDomainError(err) && err.code === 'conflict') return toast(ctx, ctx.t('wishlist.full'));
          throw err;
        }
        return card(ctx, a.id);
      }
      case 'remove': {
        const customerId = await requireCustomer(kit, ctx);
        if (!customerId) return;
        await wishlist.remove(customerId, a.id);
        await toast(ctx, ctx.t('wishlist.removed'));
        return render(ctx, await listScreen(ctx, customerId));
      }
      case 'alert': {
        const customerId = await requireCustomer(kit, ctx);
        if (!customerId) return;
        if (a.kind !== 'stock' && a.kind !== 'price') return staleButton(ctx);
        await wishlist.setAlert(customerId, a.id, a.kind === 'stock' ? 'back_in_stock' : 'price_drop', a.on);
        await toast(ctx, ctx.t(a.on ? 'wishlist.alert_on' : 'wishlist.alert_off'));
        return card(ctx, a.id);
      }
    }
  });

  return composer;
}
