/**
 * Turns a Notification row into the message a customer reads, in the customer's language at
 * send time (a language changed after the event still applies): the order card with the
 * tracking link and a button that opens the order in the bot, the product for stock and
 * price alerts, the points for loyalty. Output is a platform-neutral OutboundCall (Telegram
 * shape, HTML); the VK bridge converts it.
 */
import { loyaltyCb, ordersCb } from '../bot/keyboards/index.js';
import type { OutboundCall } from '../channels/outbound.js';
import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import type { Translator } from '../infra/i18n.js';
import { escapeHtml, formatLongDate, formatMoney } from '../lib/format.js';
import { isUuid } from '../lib/uuid.js';
import type { NotificationKind } from './producer.js';

/**
 * Callback data of the buttons notifications carry: the customer bot's own codecs, so its
 * orders and loyalty features answer them like their own buttons.
 */
export const NOTIFICATION_CALLBACKS = {
  openOrder: (orderId: string) => ordersCb.encode('card', { id: orderId, page: 0 }),
  openLoyalty: () => loyaltyCb.encode('show'),
} as const;

const isWebUrl = (url: string | null | undefined): url is string => !!url && /^https?:\/\//i.test(url);

export interface RenderInput {
  kind: string;
  payload: unknown;
  chatId: string;
  /** The customer's language, else the messenger's; null falls back to DEFAULT_LANGUAGE. */
  language: string | null;
  customerId: string | null;
  /**
   * For an order status: the event as the caller already read it (STATUS_EVENT_SQL; null when
   * it is gone). Left out, the renderer reads it.
   */
  statusEvent?: StatusEventRow | null;
}

export interface RendererDeps {
  prisma: PrismaClient;
  translator: Translator;
  /** Time zone for dates in messages (config.timeZone); Europe/Moscow when omitted. */
  timeZone?: string;
}

export type NotificationRenderer = (input: RenderInput) => Promise<OutboundCall | null>;

/** A status event with what its card shows of the order (the columns of STATUS_EVENT_SQL). */
export interface StatusEventRow {
  status: string;
  carrier: string | null;
  trackingNumber: string | null;
  trackingUrl: string | null;
  location: string | null;
  note: string | null;
  orderId: string;
  number: string;
  total: string;
  currency: string;
  orderCarrier: string | null;
  orderTrackingNumber: string | null;
  orderTrackingUrl: string | null;
  itemCount: number;
}

/**
 * The status event and its order's card in one statement (Prisma's nested select took three
 * round trips: the event, the order, its items); a WHERE on `e` follows. The send worker puts
 * it into its own load of the notification (one statement for both).
 */
export const STATUS_EVENT_SQL = Prisma.sql`
  SELECT e.status::text AS status, e.carrier, e."trackingNumber", e."trackingUrl", e.location, e.note,
         o.id::text AS "orderId", o.number, o.total::text AS total, o.currency,
         o.carrier AS "orderCarrier", o."trackingNumber" AS "orderTrackingNumber", o."trackingUrl" AS "orderTrackingUrl",
         (SELECT COALESCE(SUM(quantity), 0) FROM order_items WHERE "orderId" = o.id)::int AS "itemCount"
  FROM order_status_events e
  JOIN orders o ON o.id = e."orderId"`;

/** Null when the id is not an id or the event is gone. */
async function readStatusEvent(prisma: PrismaClient, id: unknown): Promise<StatusEventRow | null> {
  if (typeof id !== 'string' || !isUuid(id)) return null;
  const [row] = await prisma.$queryRaw<StatusEventRow[]>`${STATUS_EVENT_SQL} WHERE e.id = ${id}::uuid`;
  return row ?? null;
}

/** Returns null when what the message is about no longer exists (nothing to send). */
export function createNotificationRenderer(deps: RendererDeps): NotificationRenderer {
  const timeZone = deps.timeZone ?? 'Europe/Moscow';
  return async (input) => {
    const t = deps.translator.t(input.language);
    const lang = deps.translator.resolveLanguage(input.language);
    const p = (input.payload ?? {}) as Record<string, unknown>;
    const message = (text: string, keyboard: Array<Array<Record<string, string>>>): OutboundCall => ({
      method: 'sendMessage',
      payload: {
        chat_id: input.chatId,
        text,
        parse_mode: 'HTML',
        link_preview_options: { is_disabled: true },
        ...(keyboard.length ? { reply_markup: { inline_keyboard: keyboard } } : {}),
      },
    });

    switch (input.kind as NotificationKind) {
      case 'order-status': {
        const event = input.statusEvent !== undefined ? input.statusEvent : await readStatusEvent(deps.prisma, p.statusEventId);
        if (!event) return null;
        const carrier = event.carrier ?? event.orderCarrier;
        const trackingNumber = event.trackingNumber ?? event.orderTrackingNumber;
        const trackingUrl = event.trackingUrl ?? event.orderTrackingUrl;
        const lines = [
          `<b>${escapeHtml(t('notifications.order.title', { number: event.number }))}</b>`,
          escapeHtml(t(`notifications.order.status.${event.status}`)),
          '',
          escapeHtml(t('notifications.order.items', { count: event.itemCount })),
          escapeHtml(t('notifications.order.total', { total: formatMoney(Number(event.total), event.currency, lang) })),
        ];
        if (carrier) lines.push(escapeHtml(t('notifications.order.carrier', { carrier })));
        if (trackingNumber) {
          const number = isWebUrl(trackingUrl) ? `<a href="${escapeHtml(trackingUrl)}">${escapeHtml(trackingNumber)}</a>` : escapeHtml(trackingNumber);
          lines.push(escapeHtml(t('notifications.order.tracking', { trackingNumber: '\u0000' })).replace('\u0000', number));
        }
        if (event.location) lines.push(escapeHtml(t('notifications.order.location', { location: event.location })));
        if (event.note) lines.push(escapeHtml(t('notifications.order.note', { note: event.note })));
        const keyboard: Array<Array<Record<string, string>>> = [[{ text: t('notifications.order.button.open'), callback_data: NOTIFICATION_CALLBACKS.openOrder(event.orderId) }]];
        if (isWebUrl(trackingUrl)) keyboard.push([{ text: t('notifications.order.button.track'), url: trackingUrl }]);
        return message(lines.join('\n'), keyboard);
      }
      case 'back-in-stock':
      case 'price-drop': {
        const product = await deps.prisma.product.findUnique({ where: { id: String(p.productId) } });
        if (!product) return null;
        const name = (lang === 'en' && product.nameEn) || product.name;
        const text =
          input.kind === 'back-in-stock'
            ? [`<b>${escapeHtml(t('notifications.stock.backInStock', { name }))}</b>`, escapeHtml(t('notifications.stock.price', { price: formatMoney(Number(product.price), product.currency, lang) }))].join('\n')
            : `<b>${escapeHtml(t('notifications.stock.priceDrop', { name, oldPrice: formatMoney(Number(p.oldPrice), product.currency, lang), newPrice: formatMoney(Number(p.newPrice), product.currency, lang) }))}</b>`;
        return message(text, isWebUrl(product.url) ? [[{ text: t('notifications.stock.button.open'), url: product.url }]] : []);
      }
      case 'points-credited': {
        const customer = input.customerId ? await deps.prisma.customer.findUnique({ where: { id: input.customerId }, select: { pointsBalance: true } }) : null;
        const order = typeof p.orderId === 'string' ? await deps.prisma.order.findUnique({ where: { id: p.orderId }, select: { number: true } }) : null;
        const credited = t(order ? 'notifications.loyalty.credited' : 'notifications.loyalty.creditedNoOrder', { count: Number(p.points), number: order?.number });
        const text = escapeHtml(`${credited}\n${t('notifications.loyalty.balance', { count: customer?.pointsBalance ?? 0 })}`);
        return message(text, [[{ text: t('notifications.loyalty.button.open'), callback_data: NOTIFICATION_CALLBACKS.openLoyalty() }]]);
      }
      case 'points-expiring': {
        const text = escapeHtml(t('notifications.loyalty.expiring', { count: Number(p.points), date: formatLongDate(String(p.expiresAt), lang, timeZone) }));
        return message(text, [[{ text: t('notifications.loyalty.button.open'), callback_data: NOTIFICATION_CALLBACKS.openLoyalty() }]]);
      }
      default:
        throw new Error(`No renderer for notification kind ${input.kind}`);
    }
  };
}
