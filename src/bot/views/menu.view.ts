import { InlineKeyboard } from 'grammy';
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

export function loginRequired(view: View): Screen {
  return {
    text: view.t('auth.required'),
    keyboard: new InlineKeyboard().text(view.t('menu.login'), menuCb.encode('login')).row().text(view.t('menu.back'), menuCb.encode('home')),
  };
}
