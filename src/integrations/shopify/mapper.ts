/**
 * Shopify Admin REST resources (the same JSON its webhooks carry) → the shapes the signed API
 * takes. Pure functions. Each product variant is one Kabinet product (a variant is what a
 * customer buys and what a cart permalink takes).
 */
import type { OrderStatus } from '../../generated/prisma/enums.js';
import type { CustomerInput, OrderInput, ProductInput, StatusChangeInput } from '../../domain/shop-sync/types.js';
import { amount, IgnoredPayload, need, platformTime, RefusedPayload } from '../ingest.js';

type Json = Record<string, unknown>;

const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' ? String(v) : null);
export const idOf = (v: unknown, what: string): string => {
  const s = text(v);
  if (!s || !/^\d+$/.test(s)) throw new RefusedPayload(`missing ${what}`);
  return s;
};

export function versionOf(resource: Json): { externalId: string; modifiedAt: Date } {
  return { externalId: idOf(resource.id, 'id'), modifiedAt: platformTime(resource.updated_at ?? resource.created_at, 'updated_at') };
}

/** The SKU Kabinet keys a variant by: its SKU, else its id. */
export const skuOf = (sku: unknown, variantId: string): string => text(sku) ?? `shopify-${variantId}`;

/** Tracking of the newest fulfillment that has any. */
export function trackingOf(fulfillments: unknown): { carrier: string | null; trackingNumber: string | null; trackingUrl: string | null; shipmentStatus: string | null } {
  const withTracking = arr(fulfillments).map(obj).filter((f) => f.status !== 'cancelled');
  const last = withTracking[withTracking.length - 1];
  if (!last) return { carrier: null, trackingNumber: null, trackingUrl: null, shipmentStatus: null };
  return {
    carrier: text(last.tracking_company),
    trackingNumber: text(last.tracking_number) ?? text(arr(last.tracking_numbers)[0]),
    trackingUrl: text(last.tracking_url) ?? text(arr(last.tracking_urls)[0]),
    shipmentStatus: text(last.shipment_status),
  };
}

/** A fulfillment's shipment_status (carrier events) → Kabinet status. */
export function shipmentStatusOf(shipment: string | null): OrderStatus {
  if (shipment === 'delivered') return 'delivered';
  if (shipment === 'ready_for_pickup') return 'ready_for_pickup';
  return 'shipped';
}

/**
 * Shopify keeps payment, fulfillment and cancellation apart; a customer sees one status.
 * Cancelled or refunded wins, then how far the goods went, then payment.
 */
export function orderStatusOf(order: Json): OrderStatus {
  const financial = text(order.financial_status);
  const fulfillment = text(order.fulfillment_status);
  const tracking = trackingOf(order.fulfillments);
  if (text(order.cancelled_at)) return fulfillment === 'fulfilled' || financial === 'refunded' && fulfillment ? 'returned' : 'cancelled';
  if (financial === 'refunded') return fulfillment ? 'returned' : 'cancelled';
  if (fulfillment === 'fulfilled' || fulfillment === 'partial' || tracking.shipmentStatus) return shipmentStatusOf(tracking.shipmentStatus);
  switch (financial) {
    case 'paid':
    case 'partially_paid':
    case 'partially_refunded':
      return 'paid';
    case 'authorized':
      return 'confirmed';
    case 'pending':
    case null:
      return 'created';
    case 'voided':
      return 'cancelled';
    default:
      throw new RefusedPayload(`unknown financial_status "${String(financial).slice(0, 40)}"`);
  }
}

const shopMoney = (set: unknown): unknown => obj(obj(set).shop_money).amount;

function addressLine(a: Json): string | null {
  const parts = [a.address1, a.address2, a.city, a.province, a.zip, a.country].map(text).filter((p): p is string => p !== null);
  return parts.length ? parts.join(', ') : null;
}

export function phoneOf(order: Json): string | null {
  return text(order.phone) ?? text(obj(order.customer).phone) ?? text(obj(order.billing_address).phone) ?? text(obj(order.shipping_address).phone) ?? text(obj(obj(order.customer).default_address).phone);
}

/** The number customers know: "#1001" is shown by Shopify; Kabinet keeps "1001" (deep links allow no "#"). */
export const orderNumberOf = (order: Json): string => text(order.order_number) ?? need(text(order.name)?.replace(/^#/, ''), 'order_number');

export function mapOrder(order: Json): OrderInput {
  const status = orderStatusOf(order);
  const phone = phoneOf(order);
  const customerId = text(obj(order.customer).id);
  if (!phone && !customerId) throw new IgnoredPayload('order has no phone and no customer');
  const lines = arr(order.line_items).map(obj);
  if (lines.length === 0) throw new RefusedPayload('order has no line_items');
  const items = lines.map((line, i) => {
    const variantId = text(line.variant_id) ?? text(line.product_id) ?? String(i);
    const quantity = Number(line.quantity);
    if (!Number.isInteger(quantity) || quantity <= 0) throw new RefusedPayload(`line_items.${i}.quantity is not a positive whole number`);
    const title = text(line.name) ?? [text(line.title), text(line.variant_title)].filter(Boolean).join(' — ');
    return { sku: skuOf(line.sku, variantId), name: title || skuOf(line.sku, variantId), quantity, price: amount(line.price, `line_items.${i}.price`) };
  });
  const tracking = trackingOf(order.fulfillments);
  const shipping = obj(arr(order.shipping_lines)[0]);
  const financial = text(order.financial_status);
  return {
    number: orderNumberOf(order),
    ...(phone ? { customerPhone: phone } : {}),
    ...(customerId ? { customerExternalId: customerId } : {}),
    status,
    currency: text(order.currency)?.toUpperCase() ?? 'RUB',
    itemsTotal: amount(order.subtotal_price ?? order.total_line_items_price, 'subtotal_price'),
    deliveryCost: amount(shopMoney(order.total_shipping_price_set), 'total_shipping_price_set', 0),
    discount: amount(order.total_discounts, 'total_discounts', 0),
    total: amount(order.total_price, 'total_price'),
    deliveryMethod: text(shipping.title) ?? text(shipping.code),
    deliveryAddress: addressLine(obj(order.shipping_address)),
    paymentMethod: text(arr(order.payment_gateway_names)[0]) ?? text(order.gateway),
    paymentStatus: financial,
    carrier: tracking.carrier,
    trackingNumber: tracking.trackingNumber,
    trackingUrl: tracking.trackingUrl,
    placedAt: platformTime(order.processed_at ?? order.created_at, 'created_at').toISOString(),
    items,
  };
}

/** A fulfillment (fulfillments/create, fulfillments/update) as a status change with tracking. */
export function mapFulfillment(fulfillment: Json): { orderId: string; change: StatusChangeInput } | null {
  const orderId = idOf(fulfillment.order_id, 'order_id');
  const status = text(fulfillment.status);
  if (status === 'cancelled' || status === 'failure' || status === 'error') return null;
  const tracking = trackingOf([fulfillment]);
  return {
    orderId,
    change: {
      status: shipmentStatusOf(tracking.shipmentStatus),
      occurredAt: platformTime(fulfillment.updated_at ?? fulfillment.created_at, 'updated_at').toISOString(),
      carrier: tracking.carrier,
      trackingNumber: tracking.trackingNumber,
      trackingUrl: tracking.trackingUrl,
    },
  };
}

export interface MappedVariant {
  variantId: string;
  input: ProductInput;
}

/** Every variant of a product; `storefront` is the shop's domain for product links. */
export function mapProduct(product: Json, storefront: string | undefined): MappedVariant[] {
  idOf(product.id, 'id');
  const title = need(text(product.title), 'title');
  const handle = text(product.handle);
  const active = (text(product.status) ?? 'active') === 'active';
  const images = arr(product.images).map(obj);
  const fallbackImage = text(obj(product.image).src) ?? text(images[0]?.src);
  const variants = arr(product.variants).map(obj);
  if (variants.length === 0) throw new RefusedPayload('product has no variants');
  return variants.map((v, i) => {
    const variantId = idOf(v.id, `variants.${i}.id`);
    const variantTitle = text(v.title);
    const name = variantTitle && variantTitle !== 'Default Title' ? `${title} — ${variantTitle}` : title;
    const price = amount(v.price, `variants.${i}.price`);
    const compareAt = amount(v.compare_at_price, `variants.${i}.compare_at_price`, 0);
    const tracked = text(v.inventory_management) !== null;
    const stock = tracked || typeof v.inventory_quantity === 'number' ? Math.max(0, Math.trunc(Number(v.inventory_quantity) || 0)) : 999;
    const image = text(images.find((img) => String(img.id) === String(v.image_id))?.src) ?? fallbackImage;
    return {
      variantId,
      input: {
        sku: skuOf(v.sku, variantId),
        name: name.slice(0, 500),
        price,
        oldPrice: compareAt > price ? compareAt : null,
        stock,
        url: storefront && handle ? `https://${storefront}/products/${handle}?variant=${variantId}` : null,
        imageUrl: image,
        isActive: active,
        platformRef: variantId,
      },
    };
  });
}

export function mapCustomer(customer: Json): CustomerInput {
  const customerId = idOf(customer.id, 'id');
  const phone = text(customer.phone) ?? text(obj(customer.default_address).phone);
  if (!phone) throw new IgnoredPayload('customer has no phone (Kabinet finds customers by phone)');
  const emailConsent = text(obj(customer.email_marketing_consent).state);
  const smsConsent = text(obj(customer.sms_marketing_consent).state);
  // Subscribed on either channel grants it; an explicit unsubscribe withdraws it; anything else
  // ("not_subscribed", absent) leaves what the customer said in the bot.
  const states = [emailConsent, smsConsent];
  const marketing = states.includes('subscribed') || customer.accepts_marketing === true ? true : states.includes('unsubscribed') ? false : undefined;
  return {
    phone,
    externalId: customerId,
    firstName: text(customer.first_name),
    lastName: text(customer.last_name),
    email: text(customer.email),
    ...(marketing !== undefined ? { marketingConsent: marketing } : {}),
  };
}
