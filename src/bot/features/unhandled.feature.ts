/** Last in line: stale or unknown buttons get a polite answer, free text a helpful reply. */
import { Composer } from 'grammy';
import { FlatComposer } from '../sequence.js';
import type { BotContext } from '../context.js';
import type { BotKit } from '../kit.js';
import { mainMenuMessage } from '../views/menu.view.js';
import { render, staleButton } from './helpers.js';

export function createUnhandledFeature(kit: BotKit): Composer<BotContext> {
  const composer = new FlatComposer<BotContext>();
  composer.on('callback_query', staleButton);
  composer.on('message', async (ctx) => {
    const menu = mainMenuMessage(kit.view(ctx.lang), ctx.channel, ctx.account.customerId !== null);
    await render(ctx, { ...menu, text: `${ctx.t('menu.free_text')}\n${ctx.t('menu.free_text_hint')}` }, true);
  });
  return composer;
}
