/**
 * WooCommerce REST API v3 resources (the same JSON its webhooks carry) → the shapes the
 * signed API takes. Pure functions: no I/O. A payload that lacks what the documented shape
 * always has, or carries a status with no mapping, is refused with the reason.
 */
import type { OrderStatus } from '../../generated/prisma/enums.js';
import type { CustomerInput, OrderInput, ProductInput } from '../../domain/shop-sync/types.js';
import { amount, IgnoredPayload, need, platformTime, RefusedPayload } from '../ingest.js';

type Json = Record<string, unknown>;

const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' ? String(v) : null);
const id = (v: unknown, what: string): string => {
  const s = text(v);
  if (!s || !/^\d+$/.test(s) || s === '0') throw new RefusedPayload(`missing ${what}`);
  return s;
};

/** Stock for a product whose stock WooCommerce does not count ("in stock" without a number). */
export const UNCOUNTED_STOCK = 999;

/** The resource's id and modification time, which order deliveries of one resource. */
export function versionOf(resource: Json): { externalId: string; modifiedAt: Date } {
  return { externalId: id(resource.id, 'id'), modifiedAt: platformTime(resource.date_modified_gmt ?? resource.date_created_gmt, 'date_modified_gmt') };
}

/** The SKU Kabinet keys a WooCommerce product or variation by: its SKU, else its id. */
export function skuOf(sku: unknown, productId: string): string {
  return text(sku) ?? `wc-${productId}`;
}

/** Tracking from the WooCommerce Shipment Tracking / Advanced Shipment Tracking plugins' meta. */
export function trackingOf(order: Json): { carrier: string | null; trackingNumber: string | null; trackingUrl: string | null } {
  for (const meta of arr(order.meta_data)) {
    const m = obj(meta);
    if (m.key !== '_wc_shipment_tracking_items') continue;
    const items = arr(m.value).map(obj).filter((t) => text(t.tracking_number));
    const last = items[items.length - 1];
    if (!last) break;
    return {
      carrier: text(last.custom_tracking_provider) ?? text(last.tracking_provider),
      trackingNumber: text(last.tracking_number),
      trackingUrl: text(last.custom_tracking_link) ?? text(last.tracking_link),
    };
  }
  return { carrier: null, trackingNumber: null, trackingUrl: null };
}

/** WooCommerce statuses that are not orders yet, or are gone. */
const NOT_AN_ORDER = new Set(['checkout-draft', 'trash', 'auto-draft']);

export function orderStatusOf(status: unknown, map: Record<string, string>): OrderStatus {
  const raw = text(status)?.replace(/^wc-/, '');
  if (!raw) throw new RefusedPayload('missing status');
  if (NOT_AN_ORDER.has(raw)) throw new IgnoredPayload(`order status "${raw}" is not an order customers see`);
  const mapped = map[raw];
  if (!mapped) throw new RefusedPayload(`unknown order status "${raw.slice(0, 40)}" (map it with WOOCOMMERCE_STATUS_MAP)`);
  return mapped as OrderStatus;
}

function addressLine(a: Json): string | null {
  const parts = [a.address_1, a.address_2, a.city, a.state, a.postcode].map(text).filter((p): p is string => p !== null);
  return parts.length ? parts.join(', ') : null;
}

export function mapOrder(order: Json, statusMap: Record<string, string>): OrderInput {
  const billing = obj(order.billing);
  const shipping = obj(order.shipping);
  const status = orderStatusOf(order.status, statusMap);
  const number = text(order.number) ?? id(order.id, 'id');
  const phone = text(billing.phone) ?? text(shipping.phone);
  const customerId = text(order.customer_id);
  if (!phone && (!customerId || customerId === '0')) throw new IgnoredPayload('order has no phone and no registered customer');
  const lines = arr(order.line_items).map(obj);
  if (lines.length === 0) throw new RefusedPayload('order has no line_items');
  const items = lines.map((line, i) => {
    const productId = text(line.variation_id) && text(line.variation_id) !== '0' ? text(line.variation_id)! : text(line.product_id) ?? '0';
    const quantity = Number(line.quantity);
    if (!Number.isInteger(quantity) || quantity <= 0) throw new RefusedPayload(`line_items.${i}.quantity is not a positive whole number`);
    const unit = line.price !== undefined && line.price !== null && line.price !== '' ? amount(line.price, `line_items.${i}.price`) : amount(line.subtotal, `line_items.${i}.subtotal`) / quantity;
    return { sku: skuOf(line.sku, productId), name: text(line.name) ?? skuOf(line.sku, productId), quantity, price: Math.round(unit * 100) / 100 };
  });
  const itemsTotal = lines.reduce((sum, line, i) => sum + amount(line.subtotal, `line_items.${i}.subtotal`, 0), 0);
  const tracking = trackingOf(order);
  const shippingLine = obj(arr(order.shipping_lines)[0]);
  const paid = text(order.date_paid_gmt) ?? text(order.date_paid);
  return {
    number,
    ...(phone ? { customerPhone: phone } : {}),
    ...(customerId && customerId !== '0' ? { customerExternalId: customerId } : {}),
    status,
    currency: text(order.currency)?.toUpperCase() ?? 'RUB',
    itemsTotal: Math.round(itemsTotal * 100) / 100,
    deliveryCost: amount(order.shipping_total, 'shipping_total', 0),
    discount: amount(order.discount_total, 'discount_total', 0),
    total: amount(order.total, 'total'),
    deliveryMethod: text(shippingLine.method_title) ?? text(shippingLine.method_id),
    deliveryAddress: addressLine(shipping) ?? addressLine(billing),
    paymentMethod: text(order.payment_method_title) ?? text(order.payment_method),
    paymentStatus: status === 'returned' ? 'refunded' : paid ? 'paid' : status === 'cancelled' ? null : 'pending',
    ...tracking,
    placedAt: platformTime(order.date_created_gmt, 'date_created_gmt').toISOString(),
    items,
  };
}

/**
 * A simple product or a variation. A variable product itself is not sold: its variations
 * are (they come as their own product.updated deliveries and in the import).
 */
export function mapProduct(product: Json): ProductInput {
  const productId = id(product.id, 'id');
  const type = text(product.type);
  if (type === 'variable' || type === 'grouped') throw new IgnoredPayload(`a ${type} product is sold through its ${type === 'variable' ? 'variations' : 'children'}`);
  const name = need(text(product.name) ?? (product.parent_id ? text(product.sku) : null), 'name');
  const price = amount(product.price, 'price', 0);
  const regular = amount(product.regular_price, 'regular_price', 0);
  const managed = product.manage_stock === true;
  const stockStatus = text(product.stock_status) ?? 'instock';
  const stock = managed ? Math.max(0, Math.trunc(Number(product.stock_quantity) || 0)) : stockStatus === 'outofstock' ? 0 : UNCOUNTED_STOCK;
  const image = text(obj(arr(product.images)[0]).src) ?? text(obj(product.image).src);
  const status = text(product.status) ?? 'publish';
  return {
    sku: skuOf(product.sku, productId),
    name: name.slice(0, 500),
    description: text(product.short_description)?.replace(/<[^>]*>/g, '').slice(0, 2000) ?? null,
    price,
    oldPrice: regular > price ? regular : null,
    stock,
    url: text(product.permalink),
    imageUrl: image,
    isActive: status === 'publish' && product.purchasable !== false,
    platformRef: productId,
  };
}

export function mapCustomer(customer: Json): CustomerInput {
  const customerId = id(customer.id, 'id');
  const billing = obj(customer.billing);
  const shipping = obj(customer.shipping);
  const phone = text(billing.phone) ?? text(shipping.phone);
  if (!phone) throw new IgnoredPayload('customer has no phone (Kabinet finds customers by phone)');
  return {
    phone,
    externalId: customerId,
    firstName: text(customer.first_name) ?? text(billing.first_name),
    lastName: text(customer.last_name) ?? text(billing.last_name),
    email: text(customer.email) ?? text(billing.email),
  };
}
