/** Order history, an order's card, its tracking timeline and repeating it. */
import { Composer } from 'grammy';
import { FlatComposer } from '../sequence.js';
import type { BotContext } from '../context.js';
import type { BotKit } from '../kit.js';
import { ordersCb } from '../keyboards/index.js';
import { cartReady, orderCard, ordersList, orderTimeline, repeatPreview } from '../views/orders.view.js';
import { render, requireCustomer, staleButton } from './helpers.js';
import { isDomainError } from '../../errors.js';

const ORDER_NUMBER = /^(?:заказ|order)?\s*[№#]?\s*([A-Za-z0-9][A-Za-z0-9-]{0,63})$/i;

export function createOrdersFeature(kit: BotKit): Composer<BotContext> {
  const composer = new FlatComposer<BotContext>();
  const { orders } = kit.services;

  const list = async (ctx: BotContext, page: number) => {
    const customerId = await requireCustomer(kit, ctx);
    // Channels with few, short buttons (VK) list the orders in the text; the buttons carry numbers.
    const compact = ctx.channel.capabilities.maxInlineButtons !== undefined;
    if (customerId) await render(ctx, ordersList(kit.view(ctx.lang), await orders.list(customerId, page), { compact }));
  };

  composer.command('orders', (ctx) => list(ctx, 0));

  // Free text that is one of the customer's order numbers ("№K-100023", "заказ 100023") opens it.
  composer.on('message:text', async (ctx, next) => {
    const number = ORDER_NUMBER.exec(ctx.message.text.trim())?.[1];
    if (!ctx.account.customerId || !number || !/\d/.test(number)) return next();
    try {
      return await render(ctx, orderCard(kit.view(ctx.lang), await orders.card(ctx.account.customerId, { number }), 0));
    } catch (err) {
      if (isDomainError(err) && err.code === 'not_found') return next();
      throw err;
    }
  });

  composer.callbackQuery(ordersCb.pattern, async (ctx) => {
    const a = ordersCb.decode(ctx.callbackQuery.data);
    if (!a) return staleButton(ctx);
    if (a.action === 'list') return list(ctx, a.page);
    const customerId = await requireCustomer(kit, ctx);
    if (!customerId) return;
    const view = kit.view(ctx.lang);
    switch (a.action) {
      case 'card':
        return render(ctx, orderCard(view, await orders.card(customerId, { id: a.id }), a.page));
      case 'track':
      case 'trackAt': {
        const { order, events } = await orders.timeline(customerId, a.id);
        return render(ctx, orderTimeline(view, order, events, a.page, a.action === 'trackAt' ? a.at : 0));
      }
      case 'repeat':
        return render(ctx, repeatPreview(view, await orders.previewRepeat(customerId, a.id), a.page));
      case 'cart':
        try {
          const request = await orders.requestRepeat(customerId, a.id);
          return render(ctx, cartReady(view, request.cartUrl, a.id));
        } catch (err) {
          // Stock ran out between the preview and the tap: show the fresh preview.
          if (!isDomainError(err) || err.code !== 'conflict') throw err;
          return render(ctx, repeatPreview(view, await orders.previewRepeat(customerId, a.id), 0));
        }
    }
  });

  return composer;
}
