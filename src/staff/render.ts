/**
 * What the staff group shows: the customer card (HTML), its buttons, the topic title, and the
 * staff bot's callback data — built here only, with a decoder that rejects anything malformed.
 */
import type { TFunction } from '../infra/i18n.js';
import type { CustomerCard } from '../domain/support/card.js';
import { clip } from '../lib/clip.js';
import { escapeHtml, formatDate, formatMoney } from '../lib/format.js';
import { UUID_SOURCE } from '../lib/uuid.js';

export type InlineKeyboard = { inline_keyboard: Array<Array<{ text: string; callback_data: string }>> };


export type StaffAction =
  | { action: 'take' | 'release' | 'close' | 'orders' | 'assign'; conversationId: string }
  | { action: 'to'; conversationId: string; telegramUserId: string };

/** Callback data of staff buttons: "st:<action>:<conversation id>[:<telegram user id>]" (≤ 64 bytes). */
export const staffCb = {
  pattern: /^st:/,
  encode(a: StaffAction): string {
    return a.action === 'to' ? `st:to:${a.conversationId}:${a.telegramUserId}` : `st:${a.action}:${a.conversationId}`;
  },
  decode(data: string | undefined): StaffAction | null {
    if (!data || data.length > 64) return null;
    const simple = new RegExp(`^st:(take|release|close|orders|assign):(${UUID_SOURCE})$`).exec(data);
    if (simple) return { action: simple[1] as 'take', conversationId: simple[2]! };
    const to = new RegExp(`^st:to:(${UUID_SOURCE}):(\\d{1,20})$`).exec(data);
    if (to) return { action: 'to', conversationId: to[1]!, telegramUserId: to[2]! };
    return null;
  },
};

const PLATFORM = { telegram: 'Telegram', vk: 'VK' } as const;
const STATE_ICON = { waiting: '🟡', with_operator: '🟢', closed: '✅' } as const;

/** "🟡 Anna Smirnova · Telegram" (with the operator once taken), at most 128 characters. */
export function topicTitle(card: Pick<CustomerCard, 'status' | 'displayName' | 'platform' | 'assignee'>): string {
  const parts = [`${STATE_ICON[card.status]} ${clip(card.displayName.replace(/\s+/g, ' '), 60)}`, PLATFORM[card.platform]];
  if (card.assignee && card.status !== 'closed') parts.push(clip(card.assignee.name, 30));
  return clip(parts.join(' · '), 128);
}

export interface CardView {
  t: TFunction;
  lang: string;
  timeZone: string;
}

/** The card at the top of the topic; the question is clipped so the whole card fits one message. */
export function cardText(card: CustomerCard, view: CardView, options: { allOrders?: boolean } = {}): string {
  const { t, lang, timeZone } = view;
  const lines: string[] = [];
  const handle = card.username ? ` (@${escapeHtml(card.username)})` : '';
  lines.push(`${STATE_ICON[card.status]} <b>${escapeHtml(card.displayName)}</b>${handle} · ${PLATFORM[card.platform]}`);
  if (card.customer) {
    const c = card.customer;
    lines.push(t('staff.card.customer', { name: escapeHtml(c.name ?? '—'), phone: escapeHtml(c.maskedPhone) }));
    lines.push(t('staff.card.messengers', { list: c.messengers.map((m) => PLATFORM[m]).join(', '), lang: card.language }));
    lines.push(t('staff.card.loyalty', { tier: escapeHtml(c.tier ?? '—'), points: c.points }));
  } else {
    lines.push(t('staff.card.guest', { lang: card.language }));
  }
  if (card.orders.length > 0) {
    lines.push('', t(options.allOrders ? 'staff.card.orders_more' : 'staff.card.orders', { count: card.ordersTotal }));
    for (const o of card.orders) {
      lines.push(`• №${escapeHtml(o.number)} — ${t(`orders.status.${o.status}`, { defaultValue: o.status })} — ${formatMoney(o.total, o.currency, lang)} — ${formatDate(o.placedAt, lang, timeZone)}`);
    }
  } else if (card.customer) {
    lines.push('', t('staff.card.no_orders'));
  }
  lines.push('', t('staff.card.assignee', { name: card.assignee ? escapeHtml(card.assignee.name) : t('staff.card.nobody') }));
  lines.push(t(`staff.card.status.${card.status}`));
  if (card.rating !== null) lines.push(t('staff.card.rating', { stars: '★'.repeat(card.rating) + '☆'.repeat(5 - card.rating), rating: card.rating }));
  if (card.question) lines.push('', t('staff.card.question'), escapeHtml(clip(card.question, 2000)));
  return lines.join('\n');
}

export function cardKeyboard(card: Pick<CustomerCard, 'conversationId' | 'status' | 'assignee' | 'ordersTotal' | 'orders'>, t: TFunction): InlineKeyboard {
  const id = card.conversationId;
  const rows: InlineKeyboard['inline_keyboard'] = [];
  if (card.status !== 'closed') {
    rows.push([
      card.assignee ? { text: t('staff.buttons.release'), callback_data: staffCb.encode({ action: 'release', conversationId: id }) } : { text: t('staff.buttons.take'), callback_data: staffCb.encode({ action: 'take', conversationId: id }) },
      { text: t('staff.buttons.close'), callback_data: staffCb.encode({ action: 'close', conversationId: id }) },
    ]);
    rows.push([{ text: t('staff.buttons.assign'), callback_data: staffCb.encode({ action: 'assign', conversationId: id }) }]);
  }
  if (card.ordersTotal > card.orders.length) rows.push([{ text: t('staff.buttons.orders'), callback_data: staffCb.encode({ action: 'orders', conversationId: id }) }]);
  return { inline_keyboard: rows };
}
