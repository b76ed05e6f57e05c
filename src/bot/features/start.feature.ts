/** /start with deep links (order_<number>, product_<sku>), the main menu, /menu and /language. */
import { Composer, type MiddlewareFn } from 'grammy';
import { FlatComposer } from '../sequence.js';
import { isDomainError } from '../../errors.js';
import type { BotContext } from '../context.js';
import type { BotKit } from '../kit.js';
import { escapeHtml } from '../html.js';
import { menuCb } from '../keyboards/index.js';
import { shareContactKeyboard } from '../keyboards/share-contact.js';
import { loginRequired, menuCommandLookup } from '../views/menu.view.js';
import { orderCard } from '../views/orders.view.js';
import { productCard } from '../views/wishlist.view.js';
import { languagesScreen } from '../views/profile.view.js';
import { render, showMainMenu, staleButton } from './helpers.js';

const ORDER_LINK = /^order_([A-Za-z0-9-]{1,40})$/;
const PRODUCT_LINK = /^product_([A-Za-z0-9_-]{1,56})$/;

export function createStartFeature(kit: BotKit): Composer<BotContext> {
  const composer = new FlatComposer<BotContext>();
  const menu = (ctx: BotContext) => showMainMenu(kit, ctx);
  /**
   * /start: a guest on a channel that can share a contact gets the share-number button under
   * the input field with the greeting (one tap to log in, not two: a shared contact is taken
   * by the contact feature), then the guest menu as usual. Everyone else gets the menu.
   */
  const greet = async (ctx: BotContext) => {
    if (!ctx.account.customerId && ctx.channel.capabilities.requestContact) {
      await ctx.reply(ctx.t('auth.start_prompt', { shop: escapeHtml(kit.config.shop.name) }), { parse_mode: 'HTML', reply_markup: shareContactKeyboard(ctx.t) });
    }
    return menu(ctx);
  };

  const login = async (ctx: BotContext) => {
    if (ctx.account.customerId) {
      if (ctx.callbackQuery) await ctx.answerCallbackQuery({ text: ctx.t('auth.already') });
      else await ctx.reply(ctx.t('auth.already'));
      return menu(ctx);
    }
    if (ctx.callbackQuery) await ctx.answerCallbackQuery();
    const pending = ctx.session.pending;
    ctx.session.pending = undefined;
    return kit.startLogin(ctx, pending);
  };

  composer.command('start', async (ctx) => {
    const payload = ctx.match.trim();
    const view = kit.view(ctx.lang);
    const order = ORDER_LINK.exec(payload);
    if (order) {
      const number = order[1]!;
      if (!ctx.account.customerId) {
        ctx.session.pending = { kind: 'order', number };
        return render(ctx, loginRequired(view));
      }
      try {
        return render(ctx, orderCard(view, await kit.services.orders.card(ctx.account.customerId, { number }), 0));
      } catch (err) {
        if (!isDomainError(err) || err.code !== 'not_found') throw err;
        await ctx.reply(ctx.t('orders.card.not_found'));
        return menu(ctx);
      }
    }
    const product = PRODUCT_LINK.exec(payload);
    if (product) {
      try {
        const p = await kit.services.wishlist.productBySku(product[1]!);
        const entry = ctx.account.customerId ? await kit.services.wishlist.entry(ctx.account.customerId, p.id) : null;
        return render(ctx, productCard(view, p, entry));
      } catch (err) {
        if (!isDomainError(err) || err.code !== 'not_found') throw err;
        await ctx.reply(ctx.t('wishlist.not_found'));
        return menu(ctx);
      }
    }
    if (payload) await ctx.reply(ctx.t('errors.deep_link'));
    return greet(ctx);
  });

  composer.command('menu', (ctx) => menu(ctx));
  composer.command('login', login);
  composer.command('language', (ctx) => render(ctx, languagesScreen(kit.view(ctx.lang), kit.translator.languages)));

  composer.callbackQuery(menuCb.pattern, async (ctx) => {
    const action = menuCb.decode(ctx.callbackQuery.data);
    if (!action) return staleButton(ctx);
    if (action.action === 'home') return menu(ctx);
    if (action.action === 'cancel') {
      // The prompt's flow already ended (a button leaves it); say so where the prompt was.
      await ctx.answerCallbackQuery();
      return showMainMenu(kit, ctx, { before: ctx.t('menu.cancelled') });
    }
    return login(ctx);
  });

  return composer;
}

/**
 * Menu-keyboard labels ("📦 Заказы") are aliases of commands (/orders): rewritten before
 * flows see them, so a tap leaves a running flow exactly as a typed command does.
 */
export function menuAliases(kit: BotKit): MiddlewareFn<BotContext> {
  const menuCommandOf = menuCommandLookup(kit.translator);
  return (ctx, next) => {
    const message = ctx.message;
    const command = message?.text && ctx.channel.capabilities.menuKeyboard ? menuCommandOf(message.text) : undefined;
    if (message && command) {
      message.text = `/${command}`;
      message.entities = [{ type: 'bot_command', offset: 0, length: command.length + 1 }];
    }
    return next();
  };
}
