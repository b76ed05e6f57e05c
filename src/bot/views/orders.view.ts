import { InlineKeyboard } from 'grammy';
import type { OrderCardDto, OrdersPageDto, RepeatPreviewDto, TimelineEntryDto } from '../../domain/orders/orders.service.js';
import { clip } from '../../lib/clip.js';
import { escapeHtml as e, formatDate, formatMoney } from '../html.js';
import { menuCb, ordersCb } from '../keyboards/index.js';
import { productName, shopCode } from './names.js';
import type { Screen, View } from './view.js';

/** Lines per order (card, repeat preview): an order of hundreds of items still fits one message. */
const ITEMS_SHOWN = 30;
const NAME_IN_LIST = 100;
/**
 * Characters of tracking events per page: with the heading and the HTML it stays well under
 * a message's 4096, so the timeline is paged by us and never cut by the last-resort guard.
 */
const TIMELINE_PAGE_CHARS = 3000;
/** One event's location or note, at most (a carrier may send a paragraph). */
const TIMELINE_FIELD_CHARS = 300;

export interface OrdersListOptions {
  /**
   * The list goes in the message text and the buttons carry only the order number: for
   * channels whose buttons are few and short (VK: 10 inline buttons of 40 characters).
   */
  compact?: boolean;
}

function itemLines<T>(view: View, items: T[], line: (item: T) => string): string[] {
  const lines = items.slice(0, ITEMS_SHOWN).map(line);
  if (items.length > ITEMS_SHOWN) lines.push(view.t('orders.card.more_items', { count: items.length - ITEMS_SHOWN }));
  return lines;
}

/** "× 2 — 1 000 ₽ (500 ₽ each)": the line total, and the unit price when there is more than one. */
function amountOf(view: View, quantity: number, sum: string, unit: string): string {
  return quantity > 1 ? view.t('orders.line.sum_each', { sum, price: unit }) : sum;
}

export function ordersList(view: View, page: OrdersPageDto, options: OrdersListOptions = {}): Screen {
  const { t, lang } = view;
  const keyboard = new InlineKeyboard();
  if (page.total === 0) return { text: t('orders.list.empty'), keyboard: keyboard.text(t('menu.back'), menuCb.encode('home')) };
  const summary = (o: OrdersPageDto['orders'][number]) =>
    t('orders.list.item', { number: o.number, date: formatDate(o.placedAt, lang, view.timeZone), total: formatMoney(o.total, o.currency, lang), status: t(`orders.status.${o.status}`) });
  const lines = [t('orders.list.title', { page: page.page + 1, pages: page.pageCount })];
  if (options.compact) {
    lines.push('');
    page.orders.forEach((o) => lines.push(e(summary(o))));
    lines.push('', t('orders.list.open_hint'));
    // Five numbers share rows; the pager and "back" stay within VK's ten buttons.
    page.orders.forEach((o, i) => {
      keyboard.text(t('orders.list.button', { number: o.number }), ordersCb.encode('card', { id: o.id, page: page.page }));
      if (i % 2 === 1) keyboard.row();
    });
    keyboard.row();
  } else {
    for (const o of page.orders) keyboard.text(summary(o), ordersCb.encode('card', { id: o.id, page: page.page })).row();
  }
  if (page.page > 0) keyboard.text(t('orders.list.prev'), ordersCb.encode('list', { page: page.page - 1 }));
  if (page.page < page.pageCount - 1) keyboard.text(t('orders.list.next'), ordersCb.encode('list', { page: page.page + 1 }));
  keyboard.row().text(t('menu.back'), menuCb.encode('home'));
  return { text: lines.join('\n'), keyboard };
}

export function orderCard(view: View, o: OrderCardDto, page: number): Screen {
  const { t, lang } = view;
  const m = (v: string) => formatMoney(v, o.currency, lang);
  const lines = [
    t('orders.card.title', { number: e(o.number), date: formatDate(o.placedAt, lang, view.timeZone) }),
    t('orders.card.status', { status: t(`orders.status.${o.status}`) }),
    '',
    t('orders.card.items'),
    ...itemLines(view, o.items, (i) => t('orders.card.item', { name: e(clip(productName(view, i), NAME_IN_LIST)), quantity: i.quantity, amount: amountOf(view, i.quantity, m(i.sum), m(i.price)) })),
    '',
    t('orders.card.items_total', { amount: m(o.itemsTotal) }),
  ];
  if (Number(o.deliveryCost) > 0) lines.push(t('orders.card.delivery_cost', { amount: m(o.deliveryCost) }));
  if (Number(o.discount) > 0) lines.push(t('orders.card.discount', { amount: m(o.discount) }));
  if (o.pointsSpent > 0) lines.push(t('orders.card.points', { points: o.pointsSpent }));
  lines.push(t('orders.card.total', { amount: m(o.total) }), '');
  if (o.deliveryMethod) lines.push(t('orders.card.delivery', { method: e(shopCode(view, 'delivery', o.deliveryMethod)) }));
  if (o.deliveryAddress) lines.push(t('orders.card.address', { address: e(o.deliveryAddress) }));
  if (o.paymentMethod) lines.push(t('orders.card.payment', { method: e(shopCode(view, 'payment', o.paymentMethod)) }));
  if (o.paymentStatus) lines.push(t('orders.card.payment_status', { status: e(shopCode(view, 'payment_status', o.paymentStatus)) }));
  if (o.trackingNumber) lines.push(t('orders.card.tracking', { number: e(o.trackingNumber), carrier: e(o.carrier ?? '—') }));
  const keyboard = new InlineKeyboard()
    .text(t('orders.card.track_button'), ordersCb.encode('track', { id: o.id, page }))
    .text(t('orders.card.repeat_button'), ordersCb.encode('repeat', { id: o.id, page }))
    .row()
    .text(t('orders.card.back_button'), ordersCb.encode('list', { page }));
  return { text: lines.join('\n').trim(), keyboard };
}

function eventLines(view: View, ev: TimelineEntryDto): string[] {
  const { t, lang } = view;
  const lines = [t('orders.track.event', { date: formatDate(ev.occurredAt, lang, view.timeZone, true), status: t(`orders.status.${ev.status}`) })];
  if (ev.carrier || ev.trackingNumber) lines.push(t('orders.track.carrier', { carrier: e(ev.carrier ?? '—'), number: e(ev.trackingNumber ?? '—') }));
  if (ev.location) lines.push(t('orders.track.location', { location: e(clip(ev.location, TIMELINE_FIELD_CHARS)) }));
  if (ev.note) lines.push(t('orders.track.note', { note: e(clip(ev.note, TIMELINE_FIELD_CHARS)) }));
  return lines;
}

/** Splits event blocks into pages of at most TIMELINE_PAGE_CHARS (a page holds at least one event). */
function timelinePages(blocks: string[][]): Array<{ from: number; to: number }> {
  const pages: Array<{ from: number; to: number }> = [];
  let from = 0;
  let size = 0;
  blocks.forEach((block, i) => {
    const length = block.reduce((n, line) => n + line.length + 1, 0);
    if (i > from && size + length > TIMELINE_PAGE_CHARS) {
      pages.push({ from, to: i });
      from = i;
      size = 0;
    }
    size += length;
  });
  pages.push({ from, to: blocks.length });
  return pages;
}

/**
 * The tracking timeline, newest first, with the order's current state at the top. A long
 * history is paged ("‹ Newer" / "Older ›"), never cut: every event is on some page.
 * `events` come newest first; `at` is the page (0 = newest).
 */
export function orderTimeline(view: View, order: OrderCardDto, events: TimelineEntryDto[], page: number, at = 0): Screen {
  const { t } = view;
  const lines = [t('orders.track.title', { number: e(order.number) }), t('orders.track.now', { status: t(`orders.status.${order.status}`) }), ''];
  const keyboard = new InlineKeyboard();
  if (events.length === 0) lines.push(t('orders.track.empty'));
  const blocks = events.map((ev) => eventLines(view, ev));
  const pages = timelinePages(blocks);
  const current = Math.min(Math.max(0, at), pages.length - 1);
  const { from, to } = pages[current]!;
  if (pages.length > 1) lines.push(t('orders.track.range', { from: from + 1, to, total: events.length }), '');
  lines.push(...blocks.slice(from, to).flat());
  if (pages.length > 1) {
    if (current > 0) keyboard.text(t('orders.track.newer'), ordersCb.encode('trackAt', { id: order.id, page, at: current - 1 }));
    if (current < pages.length - 1) keyboard.text(t('orders.track.older'), ordersCb.encode('trackAt', { id: order.id, page, at: current + 1 }));
    keyboard.row();
  }
  const url = order.trackingUrl ?? events.find((ev) => ev.trackingUrl)?.trackingUrl;
  if (url && /^https?:\/\//.test(url)) keyboard.url(t('orders.track.link_button'), url).row();
  keyboard.text(t('orders.track.back_button'), ordersCb.encode('card', { id: order.id, page }));
  return { text: lines.join('\n'), keyboard };
}

export function repeatPreview(view: View, p: RepeatPreviewDto, page: number): Screen {
  const { t, lang } = view;
  const m = (v: string | null) => formatMoney(v ?? '0', p.currency, lang);
  const lines = [t('orders.repeat.title', { number: e(p.number) }), ''];
  lines.push(
    ...itemLines(view, p.items, (i) =>
      t(`orders.repeat.${i.state}`, {
        name: e(clip(productName(view, i), NAME_IN_LIST)),
        quantity: i.quantity,
        ordered: i.orderedQuantity,
        amount: i.sum === null ? '' : amountOf(view, i.quantity, m(i.sum), m(i.price)),
        previous: m(i.previousPrice),
      }),
    ),
  );
  lines.push('');
  const keyboard = new InlineKeyboard();
  if (p.available) {
    lines.push(t('orders.repeat.total', { amount: m(p.total) }));
    keyboard.text(t('orders.repeat.confirm_button'), ordersCb.encode('cart', { id: p.orderId })).row();
  } else {
    lines.push(t('orders.repeat.nothing'));
  }
  keyboard.text(t('orders.track.back_button'), ordersCb.encode('card', { id: p.orderId, page }));
  return { text: lines.join('\n'), keyboard };
}

export function cartReady(view: View, cartUrl: string, orderId: string): Screen {
  const { t } = view;
  return {
    text: t('orders.repeat.ready'),
    keyboard: new InlineKeyboard().url(t('orders.repeat.open_cart'), cartUrl).row().text(t('orders.track.back_button'), ordersCb.encode('card', { id: orderId, page: 0 })),
  };
}
