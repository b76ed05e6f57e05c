/**
 * The sandbox's demo shop: it plays the shop's backend. Every change it makes goes through
 * Kabinet's real, signed shop API (`/api/v1`), exactly as a shop's backend would send it, so
 * what the page shows arriving in the chat is what a real shop would cause.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { DomainError } from '../errors.js';
import type { PrismaClient } from '../infra/prisma.js';
import { signRequest } from '../lib/signature.js';
import type { OrderStatus } from '../generated/prisma/enums.js';
import { canMove, nextStatuses, paymentStatusAfter } from './shop-rules.js';

const CARRIER = { name: 'СДЭК', url: (n: string) => `https://www.cdek.ru/ru/tracking?order_id=${n}` };

export interface PanelOrderView {
  number: string;
  status: OrderStatus;
  paymentStatus: string | null;
  paymentMethod: string | null;
  deliveryMethod: string | null;
  total: string;
  placedAt: string;
  /** The moves this shop makes from here (shop-rules.ts). */
  next: OrderStatus[];
}

export interface PanelProductView {
  sku: string;
  name: string;
  price: string;
  oldPrice: string | null;
  stock: number;
  /** The person's alerts on it: what a restock or a price drop will fire. */
  alerts: Array<'back_in_stock' | 'price_drop'>;
}

export interface ShopAnswer { status: number; body: string }

export function createShopPanel(deps: { app: FastifyInstance; prisma: PrismaClient; secret: string }) {
  const { app, prisma } = deps;

  /** One signed request to the shop API, answered as the API answered. */
  async function call(url: string, payload: Record<string, unknown>): Promise<ShopAnswer> {
    const body = JSON.stringify({ eventId: `sandbox-${randomUUID()}`, ...payload });
    // The signature covers the method and path too (the shop API's scheme).
    const res = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', 'kabinet-signature': signRequest(deps.secret, { method: 'POST', path: url, body }) }, payload: body });
    return { status: res.statusCode, body: res.body };
  }

  return {
    async orders(phone: string): Promise<PanelOrderView[]> {
      const orders = await prisma.order.findMany({
        where: { customer: { phone } },
        orderBy: { placedAt: 'desc' },
        take: 20,
        select: { number: true, status: true, total: true, placedAt: true, paymentStatus: true, paymentMethod: true, deliveryMethod: true },
      });
      return orders.map((o) => ({ ...o, total: o.total.toString(), placedAt: o.placedAt.toISOString(), next: nextStatuses(o) }));
    },

    /**
     * Moves an order on as the shop would: the whole order is sent again (POST /orders, the
     * shop's "order updated" event) with the new status and the payment status that goes with
     * it, so the customer's card never shows "paid" with a pending payment.
     */
    async moveOrder(number: string, to: OrderStatus): Promise<ShopAnswer> {
      const order = await prisma.order.findUnique({ where: { number }, include: { items: true, customer: { select: { phone: true } } } });
      if (!order) throw new DomainError('not_found', `Order ${number} not found`, { field: 'number' });
      if (!canMove(order, to)) {
        const allowed = nextStatuses(order);
        throw new DomainError('conflict', allowed.length
          ? `A shop does not move an order from ${order.status} to ${to}; from ${order.status} it goes to ${allowed.join(', ')}`
          : `Order ${number} is ${order.status}: nothing follows`, { field: 'status', allowed });
      }
      const shipping = to === 'shipped' || (to === 'ready_for_pickup' && order.status === 'shipped');
      const trackingNumber = order.trackingNumber ?? (shipping ? `SB${String(Date.now()).slice(-9)}` : null);
      const num = (d: { toString(): string }) => Number(d.toString());
      return call('/api/v1/orders', {
        order: {
          number: order.number,
          customerPhone: order.customer.phone,
          status: to,
          currency: order.currency,
          itemsTotal: num(order.itemsTotal),
          deliveryCost: num(order.deliveryCost),
          discount: num(order.discount),
          pointsSpent: order.pointsSpent,
          total: num(order.total),
          deliveryMethod: order.deliveryMethod,
          deliveryAddress: order.deliveryAddress,
          carrier: order.carrier ?? (shipping ? CARRIER.name : null),
          trackingNumber,
          trackingUrl: order.trackingUrl ?? (shipping && trackingNumber ? CARRIER.url(trackingNumber) : null),
          paymentMethod: order.paymentMethod,
          paymentStatus: paymentStatusAfter(order, to),
          placedAt: order.placedAt.toISOString(),
          items: order.items.map((i) => ({ sku: i.sku, name: i.name, quantity: i.quantity, price: num(i.price) })),
        },
      });
    },

    /** The person's wishlist and alerted products, sold-out ones first. */
    async products(phone: string, language: string): Promise<PanelProductView[]> {
      const customer = await prisma.customer.findUnique({ where: { phone }, select: { id: true } });
      if (!customer) return [];
      const products = await prisma.product.findMany({
        where: { OR: [{ wishlistItems: { some: { customerId: customer.id } } }, { alerts: { some: { customerId: customer.id } } }] },
        include: { alerts: { where: { customerId: customer.id, active: true }, select: { kind: true } } },
        orderBy: [{ stock: 'asc' }, { sku: 'asc' }],
        take: 20,
      });
      return products.map((p) => ({
        sku: p.sku,
        name: language === 'en' ? (p.nameEn ?? p.name) : p.name,
        price: p.price.toString(),
        oldPrice: p.oldPrice?.toString() ?? null,
        stock: p.stock,
        alerts: p.alerts.map((a) => a.kind),
      }));
    },

    /** Restock (stock + `quantity`) or a price drop (`percent` off, the old price kept as oldPrice). */
    async changeProduct(sku: string, change: { restock: number } | { dropPercent: number }): Promise<ShopAnswer> {
      const p = await prisma.product.findUnique({ where: { sku } });
      if (!p) throw new DomainError('not_found', `Product ${sku} not found`, { field: 'sku' });
      const price = Number(p.price.toString());
      const next = 'restock' in change
        ? { stock: p.stock + change.restock, price, oldPrice: p.oldPrice ? Number(p.oldPrice.toString()) : null }
        : { stock: p.stock, price: Math.max(1, Math.floor((price * (100 - change.dropPercent)) / 100)), oldPrice: price };
      return call('/api/v1/products', {
        product: { sku: p.sku, name: p.name, nameEn: p.nameEn, description: p.description, currency: p.currency, url: p.url, imageUrl: p.imageUrl, isActive: p.isActive, ...next },
      });
    },
  };
}

export type ShopPanel = ReturnType<typeof createShopPanel>;
