/**
 * Turns a Notification row into the message a customer reads, in the customer's language at
 * send time (a language changed after the event still applies): the order card with the
 * tracking link and a button that opens the order in the bot, the product for stock and
 * price alerts, the points for loyalty. Output is a platform-neutral OutboundCall (Telegram
 * shape, HTML); the VK bridge converts it.
 */
import { loyaltyCb, ordersCb } from '../bot/keyboards/index.js';
import type { OutboundCall } from '../channels/outbound.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Translator } from '../infra/i18n.js';
import { escapeHtml, formatLongDate, formatMoney } from '../lib/format.js';
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
}

export interface RendererDeps {
  prisma: PrismaClient;
  translator: Translator;
  /** Time zone for dates in messages (config.timeZone); Europe/Moscow when omitted. */
  timeZone?: string;
}

export type NotificationRenderer = (input: RenderInput) => Promise<OutboundCall | null>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface StatusEventRow {
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
 * The status event with what its card shows of the order, in one statement (Prisma's nested
 * select took three round trips: the event, the order, its items). Null when the id is not an
 * id or the event is gone.
 */
async function readStatusEvent(prisma: PrismaClient, id: unknown) {
  if (typeof id !== 'string' || !UUID.test(id)) return null;
  const [row] = await prisma.$queryRaw<StatusEventRow[]>`
    SELECT e.status::text AS status, e.carrier, e."trackingNumber", e."trackingUrl", e.location, e.note,
           o.id::text AS "orderId", o.number, o.total::text AS total, o.currency,
           o.carrier AS "orderCarrier", o."trackingNumber" AS "orderTrackingNumber", o."trackingUrl" AS "orderTrackingUrl",
           (SELECT COALESCE(SUM(quantity), 0) FROM order_items WHERE "orderId" = o.id)::int AS "itemCount"
    FROM order_status_events e
    JOIN orders o ON o.id = e."orderId"
    WHERE e.id = ${id}::uuid`;
  if (!row) return null;
  return {
    status: row.status,
    carrier: row.carrier,
    trackingNumber: row.trackingNumber,
    trackingUrl: row.trackingUrl,
    location: row.location,
    note: row.note,
    order: {
      id: row.orderId,
      number: row.number,
      total: Number(row.total),
      currency: row.currency,
      carrier: row.orderCarrier,
      trackingNumber: row.orderTrackingNumber,
      trackingUrl: row.orderTrackingUrl,
      itemCount: row.itemCount,
    },
  };
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
        const event = await readStatusEvent(deps.prisma, p.statusEventId);
        if (!event) return null;
        const order = event.order;
        const carrier = event.carrier ?? order.carrier;
        const trackingNumber = event.trackingNumber ?? order.trackingNumber;
        const trackingUrl = event.trackingUrl ?? order.trackingUrl;
        const lines = [
          `<b>${escapeHtml(t('notifications.order.title', { number: order.number }))}</b>`,
          escapeHtml(t(`notifications.order.status.${event.status}`)),
          '',
          escapeHtml(t('notifications.order.items', { count: order.itemCount })),
          escapeHtml(t('notifications.order.total', { total: formatMoney(order.total, order.currency, lang) })),
        ];
        if (carrier) lines.push(escapeHtml(t('notifications.order.carrier', { carrier })));
        if (trackingNumber) {
          const number = isWebUrl(trackingUrl) ? `<a href="${escapeHtml(trackingUrl)}">${escapeHtml(trackingNumber)}</a>` : escapeHtml(trackingNumber);
          lines.push(escapeHtml(t('notifications.order.tracking', { trackingNumber: '\u0000' })).replace('\u0000', number));
        }
        if (event.location) lines.push(escapeHtml(t('notifications.order.location', { location: event.location })));
        if (event.note) lines.push(escapeHtml(t('notifications.order.note', { note: event.note })));
        const keyboard: Array<Array<Record<string, string>>> = [[{ text: t('notifications.order.button.open'), callback_data: NOTIFICATION_CALLBACKS.openOrder(order.id) }]];
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
