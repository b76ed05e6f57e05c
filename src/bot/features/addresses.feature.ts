/** Delivery addresses: list, card, add and edit (flow), delete with confirmation, make default. */
import { Composer, InlineKeyboard } from 'grammy';
import { FlatComposer } from '../sequence.js';
import { MAX_ADDRESSES } from '../../domain/customers/addresses.js';
import type { BotContext } from '../context.js';
import { ADDRESS_FORM_CONVERSATION, type AddressFormArgs } from '../conversations/address-form.conversation.js';
import type { BotKit } from '../kit.js';
import { addressesCb } from '../keyboards/index.js';
import { addressCard, addressesScreen, addressLine } from '../views/profile.view.js';
import { flowArgs, render, requireCustomer, staleButton, toast } from './helpers.js';

export function createAddressesFeature(kit: BotKit): Composer<BotContext> {
  const composer = new FlatComposer<BotContext>();
  const { addresses } = kit.services;

  composer.callbackQuery(addressesCb.pattern, async (ctx) => {
    const a = addressesCb.decode(ctx.callbackQuery.data);
    if (!a) return staleButton(ctx);
    const customerId = await requireCustomer(kit, ctx);
    if (!customerId) return;
    const view = kit.view(ctx.lang);
    switch (a.action) {
      case 'list':
        return render(ctx, addressesScreen(view, await addresses.list(customerId)));
      case 'item':
        return render(ctx, addressCard(view, await addresses.get(customerId, a.id)));
      case 'add':
      case 'edit': {
        // Say so before the four questions, not after them (the domain still checks at save).
        if (a.action === 'add' && (await addresses.list(customerId)).length >= MAX_ADDRESSES) {
          return toast(ctx, ctx.t('addresses.limit', { count: MAX_ADDRESSES }));
        }
        await ctx.answerCallbackQuery();
        const args: AddressFormArgs = { ...flowArgs(ctx), customerId, addressId: a.action === 'edit' ? a.id : undefined };
        return ctx.conversation.enter(ADDRESS_FORM_CONVERSATION, args);
      }
      case 'remove': {
        const address = await addresses.get(customerId, a.id);
        return render(ctx, {
          text: `${ctx.t('addresses.remove_confirm')}\n${addressLine(view, address)}`,
          keyboard: new InlineKeyboard().text(ctx.t('addresses.buttons.remove_yes'), addressesCb.encode('removeConfirm', { id: a.id })).row().text(ctx.t('addresses.buttons.back'), addressesCb.encode('item', { id: a.id })),
        });
      }
      case 'removeConfirm':
        await addresses.remove(customerId, a.id);
        await toast(ctx, ctx.t('addresses.removed'));
        return render(ctx, addressesScreen(view, await addresses.list(customerId)));
      case 'makeDefault':
        await addresses.setDefault(customerId, a.id);
        await toast(ctx, ctx.t('addresses.default_set'));
        return render(ctx, addressesScreen(view, await addresses.list(customerId)));
    }
  });

  return composer;
}
