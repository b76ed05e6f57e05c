import { InlineKeyboard, Keyboard } from 'grammy';
import type { Channel } from '../channel.js';
import type { Translator } from '../../infra/i18n.js';
import { escapeHtml } from '../html.js';
import { helpCb, loyaltyCb, menuCb, ordersCb, profileCb, wishlistCb } from '../keyboards/index.js';
import type { Screen, View } from './view.js';

export function mainMenu(view: View, loggedIn: boolean): Screen {
  const { t } = view;
  const keyboard = new InlineKeyboard()
    .text(t('menu.orders'), ordersCb.encode('list', { page: 0 }))
    .text(t('menu.wishlist'), wishlistCb.encode('list'))
    .row()
    .text(t('menu.loyalty'), loyaltyCb.encode('show'))
    .text(t('menu.profile'), profileCb.encode('show'))
    .row()
    .text(t('menu.help'), helpCb.encode('show'));
  if (!loggedIn) keyboard.text(t('menu.login'), menuCb.encode('login'));
  return { text: t(loggedIn ? 'menu.title' : 'menu.title_guest', { shop: escapeHtml(view.shopName) }), keyboard };
}

/** Main-menu entries as commands: the menu keyboard's labels are aliases of these. */
const MENU_COMMANDS = { 'menu.orders': 'orders', 'menu.wishlist': 'wishlist', 'menu.loyalty': 'points', 'menu.profile': 'profile', 'menu.help': 'help', 'menu.login': 'login' } as const;

/**
 * The main menu as a new message: on channels with a menu keyboard it carries that keyboard
 * (it then stays under the input field); elsewhere, and when editing, the inline menu.
 */
export function mainMenuMessage(view: View, channel: Channel, loggedIn: boolean): Screen {
  const inline = mainMenu(view, loggedIn);
  if (!channel.capabilities.menuKeyboard) return inline;
  const { t } = view;
  const keyboard = new Keyboard().text(t('menu.orders')).text(t('menu.wishlist')).row().text(t('menu.loyalty')).text(t('menu.profile')).row().text(t('menu.help'));
  if (!loggedIn) keyboard.text(t('menu.login'));
  return { text: inline.text, keyboard: keyboard.resized().persistent() };
}

/**
 * The command a menu-keyboard label stands for, in any language (a keyboard may outlive a
 * language switch). Labels are fixed per translator, so the lookup is built once per bot
 * rather than translating every label on every message.
 */
export function menuCommandLookup(translator: Translator): (text: string) => string | undefined {
  const byLabel = new Map<string, string>();
  for (const lang of translator.languages) {
    const t = translator.t(lang);
    for (const [key, command] of Object.entries(MENU_COMMANDS)) if (!byLabel.has(t(key))) byLabel.set(t(key), command);
  }
  return (text) => byLabel.get(text);
}

export function loginRequired(view: View): Screen {
  return {
    text: view.t('auth.required'),
    keyboard: new InlineKeyboard().text(view.t('menu.login'), menuCb.encode('login')).row().text(view.t('menu.back'), menuCb.encode('home')),
  };
}
