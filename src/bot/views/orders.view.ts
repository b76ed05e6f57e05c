import { InlineKeyboard } from 'grammy';
import type { OrderCardDto, OrdersPageDto, RepeatPreviewDto, TimelineEntryDto } from '../../domain/orders/orders.service.js';
import { clip } from '../../lib/clip.js';
import { escapeHtml as e, formatDate, formatMoney } from '../html.js';
import { menuCb, ordersCb } from '../keyboards/index.js';
import type { Screen, View } from './view.js';

/** Lines per order (card, repeat preview): an order of hundreds of items still fits one message. */
const ITEMS_SHOWN = 30;
const NAME_IN_LIST = 100;

function itemLines<T>(view: View, items: T[], line: (item: T) => string): string[] {
  const lines = items.slice(0, ITEMS_SHOWN).map(line);
  if (items.length > ITEMS_SHOWN) lines.push(view.t('orders.card.more_items', { count: items.length - ITEMS_SHOWN }));
  return lines;
}

export function ordersList(view: View, page: OrdersPageDto): Screen {
  const { t, lang } = view;
  const keyboard = new InlineKeyboard();
  if (page.total === 0) return { text: t('orders.list.empty'), keyboard: keyboard.text(t('menu.back'), menuCb.encode('home')) };
  for (const o of page.orders) {
    keyboard.text(
      t('orders.list.item', { number: o.number, date: formatDate(o.placedAt, lang, view.timeZone), total: formatMoney(o.total, o.currency, lang), status: t(`orders.status.${o.status}`) }),
      ordersCb.encode('card', { id: o.id, page: page.page }),
    ).row();
  }
  if (page.page > 0) keyboard.text(t('orders.list.prev'), ordersCb.encode('list', { page: page.page - 1 }));
  if (page.page < page.pageCount - 1) keyboard.text(t('orders.list.next'), ordersCb.encode('list', { page: page.page + 1 }));
  keyboard.row().text(t('menu.back'), menuCb.encode('home'));
  return { text: t('orders.list.title', { page: page.page + 1, pages: page.pageCount }), keyboard };
}

export function orderCard(view: View, o: OrderCardDto, page: number): Screen {
  const { t, lang } = view;
  const m = (v: string) => formatMoney(v, o.currency, lang);
  const lines = [
    t('orders.card.title', { number: e(o.number), date: formatDate(o.placedAt, lang, view.timeZone) }),
    t('orders.card.status', { status: t(`orders.status.${o.status}`) }),
    '',
    t('orders.card.items'),
    ...itemLines(view, o.items, (i) => t('orders.card.item', { name: e(clip(i.name, NAME_IN_LIST)), quantity: i.quantity, sum: m(i.sum) })),
    '',
    t('orders.card.items_total', { amount: m(o.itemsTotal) }),
  ];
  if (Number(o.deliveryCost) > 0) lines.push(t('orders.card.delivery_cost', { amount: m(o.deliveryCost) }));
  if (Number(o.discount) > 0) lines.push(t('orders.card.discount', { amount: m(o.discount) }));
  if (o.pointsSpent > 0) lines.push(t('orders.card.points', { points: o.pointsSpent }));
  lines.push(t('orders.card.total', { amount: m(o.total) }), '');
  if (o.deliveryMethod) lines.push(t('orders.card.delivery', { method: e(o.deliveryMethod) }));
  if (o.deliveryAddress) lines.push(t('orders.card.address', { address: e(o.deliveryAddress) }));
  if (o.paymentMethod) lines.push(t('orders.card.payment', { method: e(o.paymentMethod) }));
  if (o.paymentStatus) lines.push(t('orders.card.payment_status', { status: e(o.paymentStatus) }));
  if (o.trackingNumber) lines.push(t('orders.card.tracking', { number: e(o.trackingNumber), carrier: e(o.carrier ?? '—') }));
  const keyboard = new InlineKeyboard()
    .text(t('orders.card.track_button'), ordersCb.encode('track', { id: o.id, page }))
    .text(t('orders.card.repeat_button'), ordersCb.encode('repeat', { id: o.id, page }))
    .row()
    .text(t('orders.card.back_button'), ordersCb.encode('list', { page }));
  return { text: lines.join('\n').trim(), keyboard };
}

export function orderTimeline(view: View, order: OrderCardDto, events: TimelineEntryDto[], page: number): Screen {
  const { t, lang } = view;
  const lines = [t('orders.track.title', { number: e(order.number) }), ''];
  if (events.length === 0) lines.push(t('orders.track.empty'));
  for (const ev of events) {
    lines.push(t('orders.track.event', { date: formatDate(ev.occurredAt, lang, view.timeZone, true), status: t(`orders.status.${ev.status}`) }));
    if (ev.carrier || ev.trackingNumber) lines.push(t('orders.track.carrier', { carrier: e(ev.carrier ?? '—'), number: e(ev.trackingNumber ?? '—') }));
    if (ev.location) lines.push(t('orders.track.location', { location: e(ev.location) }));
  }
  const keyboard = new InlineKeyboard();
  const url = order.trackingUrl ?? [...events].reverse().find((ev) => ev.trackingUrl)?.trackingUrl;
  if (url && /^https?:\/\//.test(url)) keyboard.url(t('orders.track.link_button'), url).row();
  keyboard.text(t('orders.track.back_button'), ordersCb.encode('card', { id: order.id, page }));
  return { text: lines.join('\n'), keyboard };
}

export function repeatPreview(view: View, p: RepeatPreviewDto, page: number): Screen {
  const { t, lang } = view;
  const m = (v: string | null) => formatMoney(v ?? '0', p.currency, lang);
  const lines = [t('orders.repeat.title', { number: e(p.number) }), ''];
  lines.push(...itemLines(view, p.items, (i) => t(`orders.repeat.${i.state}`, { name: e(clip(i.name, NAME_IN_LIST)), quantity: i.quantity, ordered: i.orderedQuantity, price: m(i.price), previous: m(i.previousPrice) })));
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
