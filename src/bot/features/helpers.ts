import type { BotContext, FlowArgs } from '../context.js';
import type { BotKit } from '../kit.js';
import { show } from '../render.js';
import { loginRequired, mainMenu, mainMenuMessage } from '../views/menu.view.js';
import type { Screen } from '../views/view.js';

export const flowArgs = (ctx: BotContext): FlowArgs => ({ identityId: ctx.account.identityId, customerId: ctx.account.customerId, lang: ctx.lang });

/** The logged-in customer's id, or null after showing the login prompt. */
export async function requireCustomer(kit: BotKit, ctx: BotContext): Promise<string | null> {
  if (ctx.account.customerId) return ctx.account.customerId;
  const screen = loginRequired(kit.view(ctx.lang));
  await show(ctx, screen.text, screen.keyboard);
  return null;
}

export const render = (ctx: BotContext, screen: Screen, fresh = false) => show(ctx, screen.text, screen.keyboard, { fresh });

/** The polite answer to a button this version of the bot does not know (old message, forged data). */
export async function staleButton(ctx: BotContext): Promise<void> {
  await ctx.answerCallbackQuery({ text: ctx.t('errors.stale_button') });
}

/** A short toast on the pressed button. */
export async function toast(ctx: BotContext, text: string): Promise<void> {
  if (ctx.callbackQuery) await ctx.answerCallbackQuery({ text });
  else await ctx.reply(text);
}

/**
 * The main menu, for the person's login state. From a button it edits that message in place;
 * typed, `fresh`, or `refreshKeyboard` on a channel whose menu is a keyboard (the keyboard
 * must change: login state or language), it is a new message carrying that keyboard.
 * `before` is said first, in the same message.
 */
export function showMainMenu(kit: BotKit, ctx: BotContext, options: { fresh?: boolean; refreshKeyboard?: boolean; before?: string } = {}) {
  const view = kit.view(ctx.lang);
  const loggedIn = ctx.account.customerId !== null;
  const fresh = !!options.fresh || (!!options.refreshKeyboard && ctx.channel.capabilities.menuKeyboard);
  const menu = fresh || !ctx.callbackQuery ? mainMenuMessage(view, ctx.channel, loggedIn) : mainMenu(view, loggedIn);
  return render(ctx, options.before ? { ...menu, text: `${options.before}\n\n${menu.text}` } : menu, fresh);
}

