/**
 * A customer's orders as the bot shows them: history, a card, the tracking timeline, and
 * repeating an order (each item re-checked against the catalog, handed to the shop as a
 * cart link and recorded for it).
 */
import { DomainError } from '../../errors.js';
import type { Config } from '../../config/index.js';
import type { Clock } from '../../infra/clock.js';
import type { PrismaClient } from '../../infra/prisma.js';
import type { Prisma } from '../../generated/prisma/client.js';
import type { OrderStatus } from '../../generated/prisma/enums.js';
import { noOutboxDispatch, transactionWithOutbox, type OutboxDispatcher } from '../../outbox/enqueue.js';

export interface OrderSummaryDto {
  id: string;
  number: string;
  status: OrderStatus;
  total: string;
  currency: string;
  placedAt: string;
}

export interface OrdersPageDto {
  orders: OrderSummaryDto[];
  page: number;
  pageCount: number;
  total: number;
}

/** A product's names: `name` as the shop wrote it, `nameEn` the catalog's English one when it has one. */
export interface ProductNamesDto {
  name: string;
  nameEn: string | null;
}

export interface OrderItemDto extends ProductNamesDto {
  sku: string;
  quantity: number;
  /** Unit price. */
  price: string;
  /** price × quantity. */
  sum: string;
}

export interface OrderCardDto extends OrderSummaryDto {
  items: OrderItemDto[];
  itemsTotal: string;
  deliveryCost: string;
  discount: string;
  pointsSpent: number;
  deliveryMethod: string | null;
  deliveryAddress: string | null;
  paymentMethod: string | null;
  paymentStatus: string | null;
  carrier: string | null;
  trackingNumber: string | null;
  trackingUrl: string | null;
}

export interface TimelineEntryDto {
  status: OrderStatus;
  occurredAt: string;
  carrier: string | null;
  trackingNumber: string | null;
  trackingUrl: string | null;
  location: string | null;
  note: string | null;
}

export type RepeatItemState = 'ok' | 'price_changed' | 'out_of_stock' | 'partial_stock' | 'unavailable';

export interface RepeatItemDto extends ProductNamesDto {
  sku: string;
  /** What the order had. */
  orderedQuantity: number;
  previousPrice: string;
  /** What goes into the cart now (0 when unavailable). */
  quantity: number;
  /** Today's unit price, null when the product is gone from the catalog. */
  price: string | null;
  /** Today's price × quantity (what this line adds to the cart), null when nothing goes in. */
  sum: string | null;
  state: RepeatItemState;
}

export interface RepeatPreviewDto {
  orderId: string;
  number: string;
  currency: string;
  items: RepeatItemDto[];
  /** Sum of today's prices for what goes into the cart. */
  total: string;
  /** True when at least one item can go into the cart. */
  available: boolean;
}

export interface RepeatRequestDto extends RepeatPreviewDto {
  requestId: string;
  cartUrl: string;
}

export const ORDERS_PAGE_SIZE = 5;

const money = (d: Prisma.Decimal | { toFixed(n: number): string }): string => d.toFixed(2);

export function createOrdersService(deps: { prisma: PrismaClient; clock: Clock; config: Pick<Config, 'shop'>; pageSize?: number; outbox?: OutboxDispatcher }) {
  const { prisma } = deps;
  const outbox = deps.outbox ?? noOutboxDispatch;
  const pageSize = deps.pageSize ?? ORDERS_PAGE_SIZE;

  async function ownedOrder(customerId: string, where: { id: string } | { number: string }) {
    const order = await prisma.order.findFirst({
      where: { ...where, customerId },
      include: { items: { orderBy: { id: 'asc' }, include: { product: { select: { nameEn: true } } } } },
    });
    // Someone else's order and a missing one look the same: no enumeration of numbers.
    if (!order) throw new DomainError('not_found', 'Order not found');
    return order;
  }

  const summary = (o: { id: string; number: string; status: OrderStatus; total: Prisma.Decimal; currency: string; placedAt: Date }): OrderSummaryDto => ({
    id: o.id, number: o.number, status: o.status, total: money(o.total), currency: o.currency, placedAt: o.placedAt.toISOString(),
  });

  async function preview(customerId: string, orderId: string): Promise<RepeatPreviewDto> {
    const order = await ownedOrder(customerId, { id: orderId });
    const skus = [...new Set(order.items.map((i) => i.sku))];
    const products = new Map((await prisma.product.findMany({ where: { sku: { in: skus } } })).map((p) => [p.sku, p] as const));
    let totalCents = 0;
    const items: RepeatItemDto[] = order.items.map((item) => {
      const product = products.get(item.sku);
      const previousPrice = money(item.price);
      const names = { name: item.name, nameEn: product?.nameEn ?? item.product?.nameEn ?? null };
      if (!product || !product.isActive) {
        return { sku: item.sku, ...names, orderedQuantity: item.quantity, previousPrice, quantity: 0, price: null, sum: null, state: 'unavailable' };
      }
      const price = money(product.price);
      const quantity = Math.max(0, Math.min(item.quantity, product.stock));
      const state: RepeatItemState = quantity === 0 ? 'out_of_stock' : quantity < item.quantity ? 'partial_stock' : price !== previousPrice ? 'price_changed' : 'ok';
      const lineCents = Math.round(Number(price) * 100) * quantity;
      totalCents += lineCents;
      return { sku: item.sku, ...names, orderedQuantity: item.quantity, previousPrice, quantity, price, sum: quantity > 0 ? (lineCents / 100).toFixed(2) : null, state };
    });
    return {
      orderId: order.id,
      number: order.number,
      currency: order.currency,
      items,
      total: (totalCents / 100).toFixed(2),
      available: items.some((i) => i.quantity > 0),
    };
  }

  /** Fills the shop's cart template: {items} → URL-encoded "sku:qty,sku:qty", {order} → number. */
  function cartUrl(preview: RepeatPreviewDto): string {
    const merged = new Map<string, number>();
    for (const i of preview.items) if (i.quantity > 0) merged.set(i.sku, (merged.get(i.sku) ?? 0) + i.quantity);
    const items = [...merged].map(([sku, qty]) => `${sku}:${qty}`).join(',');
    return deps.config.shop.cartUrlTemplate
      .replaceAll('{items}', encodeURIComponent(items))
      .replaceAll('{order}', encodeURIComponent(preview.number));
  }

  return {
    /** A page of the customer's orders, newest first. Pages start at 0; out-of-range pages clamp. */
    async list(customerId: string, page: number): Promise<OrdersPageDto> {
      const where = { customerId };
      const orderBy = [{ placedAt: 'desc' as const }, { id: 'desc' as const }];
      const pageRows = (p: number) => prisma.order.findMany({ where, orderBy, skip: p * pageSize, take: pageSize });
      const requested = Math.max(0, Math.trunc(page) || 0);
      // The count and the asked-for page at once (one round trip of waiting, not two); only a
      // page past the end (a stale button) needs a second read of the clamped page.
      const [total, firstTry] = await Promise.all([prisma.order.count({ where }), pageRows(requested)]);
      const pageCount = Math.max(1, Math.ceil(total / pageSize));
      const current = Math.min(requested, pageCount - 1);
      const rows = current === requested ? firstTry : await pageRows(current);
      return { orders: rows.map(summary), page: current, pageCount, total };
    },

    /** The order's card; not_found for a missing order or one of another customer. */
    async card(customerId: string, ref: { id: string } | { number: string }): Promise<OrderCardDto> {
      const o = await ownedOrder(customerId, ref);
      return {
        ...summary(o),
        items: o.items.map((i) => ({ sku: i.sku, name: i.name, nameEn: i.product?.nameEn ?? null, quantity: i.quantity, price: money(i.price), sum: (Math.round(Number(i.price) * 100) * i.quantity / 100).toFixed(2) })),
        itemsTotal: money(o.itemsTotal),
        deliveryCost: money(o.deliveryCost),
        discount: money(o.discount),
        pointsSpent: o.pointsSpent,
        deliveryMethod: o.deliveryMethod,
        deliveryAddress: o.deliveryAddress,
        paymentMethod: o.paymentMethod,
        paymentStatus: o.paymentStatus,
        carrier: o.carrier,
        trackingNumber: o.trackingNumber,
        trackingUrl: o.trackingUrl,
      };
    },

    /** Every status the order went through, newest first (the current state leads). */
    async timeline(customerId: string, orderId: string): Promise<{ order: OrderCardDto; events: TimelineEntryDto[] }> {
      const order = await this.card(customerId, { id: orderId });
      const events = await prisma.orderStatusEvent.findMany({ where: { orderId }, orderBy: [{ occurredAt: 'desc' }, { createdAt: 'desc' }] });
      return {
        order,
        events: events.map((e) => ({
          status: e.status, occurredAt: e.occurredAt.toISOString(), carrier: e.carrier, trackingNumber: e.trackingNumber,
          trackingUrl: e.trackingUrl, location: e.location, note: e.note,
        })),
      };
    },

    /** What repeating the order would put into the cart today, item by item. */
    previewRepeat: preview,

    /**
     * Re-checks the order against the catalog, builds the cart link and records the request
     * with an outbox event for the shop, in one transaction. Conflict when nothing is available.
     */
    async requestRepeat(customerId: string, orderId: string): Promise<RepeatRequestDto> {
      const checked = await preview(customerId, orderId);
      if (!checked.available) throw new DomainError('conflict', 'Nothing from this order is available', { reason: 'nothing_available' });
      const url = cartUrl(checked);
      const items = checked.items.map((i) => ({ sku: i.sku, quantity: i.quantity, orderedQuantity: i.orderedQuantity, price: i.price, previousPrice: i.previousPrice, available: i.quantity > 0, state: i.state }));
      const request = await transactionWithOutbox(prisma, outbox, async ({ tx, emit }) => {
        const row = await tx.repeatOrderRequest.create({ data: { customerId, orderId, items, cartUrl: url } });
        await emit('repeat_order.requested', { requestId: row.id, customerId, orderId, orderNumber: checked.number, items, cartUrl: url });
        return row;
      });
      return { ...checked, requestId: request.id, cartUrl: url };
    },
  };
}

export type OrdersService = ReturnType<typeof createOrdersService>;
