import { InlineKeyboard } from 'grammy';
import type { ProductDto, WishlistEntryDto } from '../../domain/catalog/wishlist.service.js';
import { clip } from '../../lib/clip.js';
import { escapeHtml as e, formatMoney } from '../html.js';
import { menuCb, wishlistCb } from '../keyboards/index.js';
import type { Screen, View } from './view.js';

import { productName } from './names.js';

export { productName };

/** Items per wishlist page: the text stays far below a message's limit even with long names. */
export const WISHLIST_PAGE_SIZE = 10;
/**
 * Items per page when buttons are few (VK: 10 per message): the numbered items, a pager,
 * search and back fit one keyboard, so the bridge never has to add pages of its own.
 */
export const WISHLIST_COMPACT_PAGE_SIZE = 6;
const NAME_IN_LIST = 100;

export interface WishlistOptions {
  /** Numbered lines in the text and number buttons (channels with few, short buttons). */
  compact?: boolean;
}

export function wishlistScreen(view: View, all: WishlistEntryDto[], requestedPage = 0, options: WishlistOptions = {}): Screen {
  const { t, lang } = view;
  const keyboard = new InlineKeyboard();
  const size = options.compact ? WISHLIST_COMPACT_PAGE_SIZE : WISHLIST_PAGE_SIZE;
  const pages = Math.max(1, Math.ceil(all.length / size));
  const page = Math.min(requestedPage, pages - 1);
  const entries = all.slice(page * size, (page + 1) * size);
  const lines = [pages > 1 ? t('wishlist.title_paged', { page: page + 1, pages }) : t('wishlist.title'), ''];
  if (entries.length === 0) lines.push(t('wishlist.empty'));
  entries.forEach((entry, i) => {
    const p = entry.product;
    const stock = p.stock > 0 && p.isActive ? t('wishlist.in_stock') : t('wishlist.out_of_stock');
    const line = t('wishlist.item', { name: e(clip(productName(view, p), NAME_IN_LIST)), price: formatMoney(p.price, p.currency, lang), stock });
    if (options.compact) {
      const n = page * size + i + 1;
      lines.push(`${n}. ${line.replace(/^•\s*/, '')}`);
      keyboard.text(String(n), wishlistCb.encode('item', { id: p.id }));
      if (i % 3 === 2) keyboard.row();
    } else {
      lines.push(line);
      keyboard.text(clip(productName(view, p), 60), wishlistCb.encode('item', { id: p.id })).row();
    }
  });
  if (options.compact && entries.length > 0) lines.push('', t('wishlist.open_hint'));
  keyboard.row();
  if (page > 0) keyboard.text(t('orders.list.prev'), wishlistCb.encode('page', { page: page - 1 }));
  if (page < pages - 1) keyboard.text(t('orders.list.next'), wishlistCb.encode('page', { page: page + 1 }));
  if (pages > 1) keyboard.row();
  keyboard.text(t('wishlist.search_button'), wishlistCb.encode('search')).row().text(t('menu.back'), menuCb.encode('home'));
  return { text: lines.join('\n'), keyboard };
}

/** A product card; `entry` when it is in the wishlist (alerts and remove), else an add button. */
export function productCard(view: View, p: ProductDto, entry: WishlistEntryDto | null): Screen {
  const { t, lang } = view;
  const m = (v: string) => formatMoney(v, p.currency, lang);
  const lines = [t('wishlist.product.title', { name: e(productName(view, p)), sku: e(p.sku), price: m(p.price) })];
  if (p.oldPrice && Number(p.oldPrice) > Number(p.price)) lines.push(t('wishlist.product.old_price', { price: m(p.oldPrice) }));
  lines.push(p.stock > 0 && p.isActive ? t('wishlist.product.in_stock', { stock: p.stock }) : t('wishlist.product.out_of_stock'));
  if (entry && entry.priceAtAdd !== p.price) lines.push(t('wishlist.product.price_since', { price: m(entry.priceAtAdd) }));
  const keyboard = new InlineKeyboard();
  if (entry) {
    keyboard
      .text(t(entry.alerts.backInStock ? 'wishlist.product.alert_stock_on' : 'wishlist.product.alert_stock_off'), wishlistCb.encode('alert', { id: p.id, kind: 'stock', on: !entry.alerts.backInStock }))
      .row()
      .text(t(entry.alerts.priceDrop ? 'wishlist.product.alert_price_on' : 'wishlist.product.alert_price_off'), wishlistCb.encode('alert', { id: p.id, kind: 'price', on: !entry.alerts.priceDrop }))
      .row()
      .text(t('wishlist.product.remove_button'), wishlistCb.encode('remove', { id: p.id }))
      .row();
  } else {
    keyboard.text(t('wishlist.product.add_button'), wishlistCb.encode('add', { id: p.id })).row();
  }
  if (p.url && /^https?:\/\//.test(p.url)) keyboard.url(t('wishlist.product.open_button'), p.url).row();
  keyboard.text(t('wishlist.product.back_button'), wishlistCb.encode('list')).text(t('menu.back'), menuCb.encode('home'));
  return { text: lines.join('\n'), keyboard };
}

export function searchResults(view: View, query: string, products: ProductDto[]): Screen {
  const { t, lang } = view;
  const keyboard = new InlineKeyboard();
  for (const p of products) keyboard.text(`${clip(productName(view, p), 48)} · ${formatMoney(p.price, p.currency, lang)}`, wishlistCb.encode('item', { id: p.id })).row();
  keyboard.text(t('wishlist.search_button'), wishlistCb.encode('search')).row().text(t('wishlist.product.back_button'), wishlistCb.encode('list'));
  return { text: t(products.length ? 'wishlist.search.results' : 'wishlist.search.none', { query: e(query) }), keyboard };
}
