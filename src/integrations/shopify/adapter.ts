/**
 * Shopify → Kabinet: each webhook topic (and each imported resource) becomes the shop-sync
 * operation the signed API would run. Deliveries are deduplicated by X-Shopify-Webhook-Id at
 * the edge and ordered here by the resource's updated_at, so an older delivery arriving after
 * a newer one changes nothing.
 */
import type { ShopifyConfig } from '../../config/index.js';
import type { ShopSync } from '../../domain/shop-sync/shop-sync.js';
import { contentHash, IgnoredPayload, RefusedPayload, upsertPlatformOrder, type Ingest } from '../ingest.js';
import { mapCustomer, mapFulfillment, mapOrder, mapProduct, orderNumberOf, versionOf } from './mapper.js';

type Json = Record<string, unknown>;
type Outcome = 'applied' | 'duplicate' | 'stale';

export const SHOPIFY = 'shopify' as const;

/** The topics Kabinet subscribes to (README lists them for the shop's admin). */
export const SHOPIFY_TOPICS = ['orders/create', 'orders/updated', 'orders/fulfilled', 'orders/cancelled', 'orders/paid', 'fulfillments/create', 'fulfillments/update', 'products/create', 'products/update', 'customers/create', 'customers/update'] as const;

export interface ShopifyAdapterDeps {
  ingest: Ingest;
  sync: ShopSync;
  config: Pick<ShopifyConfig, 'shopDomain'>;
}

export type ShopifyAdapter = ReturnType<typeof createShopifyAdapter>;

export function createShopifyAdapter(deps: ShopifyAdapterDeps) {
  const { ingest, sync } = deps;
  const eventIdOf = (resource: string, externalId: string, modifiedAt: Date, payload: unknown) => `shopify:${resource}:${externalId}:${modifiedAt.getTime()}:${contentHash(payload).slice(0, 12)}`;

  async function order(payload: Json, notify: boolean): Promise<Outcome> {
    const { externalId, modifiedAt } = versionOf(payload);
    // The initial import is history: stored as it was, no points accrued, nobody told.
    const input = { ...mapOrder(payload), ...(notify ? {} : { history: true }) };
    const ctx = { eventId: eventIdOf('order', externalId, modifiedAt, payload), notify, ...(notify ? {} : { history: true }) };
    return (await ingest.applyVersion({ platform: SHOPIFY, resource: 'order', externalId, modifiedAt, payload }, async (tx) => {
      return { localKey: input.number, notifications: await upsertPlatformOrder(tx, sync, input, modifiedAt, ctx) };
    })).status;
  }

  async function product(payload: Json, notify: boolean): Promise<Outcome> {
    const { externalId, modifiedAt } = versionOf(payload);
    const variants = mapProduct(payload, deps.config.shopDomain);
    const ctx = { eventId: eventIdOf('product', externalId, modifiedAt, payload), notify };
    return (await ingest.applyVersion({ platform: SHOPIFY, resource: 'product', externalId, modifiedAt, payload }, async (tx) => {
      const notifications = [];
      const fanouts: string[] = [];
      for (const v of variants) {
        const r = await sync.upsertProduct(tx, v.input, ctx);
        notifications.push(...r.notifications);
        fanouts.push(...(r.fanouts ?? []));
      }
      return { localKey: variants.map((v) => v.input.sku).join(','), notifications, fanouts };
    })).status;
  }

  async function customer(payload: Json): Promise<Outcome> {
    const { externalId, modifiedAt } = versionOf(payload);
    const input = mapCustomer(payload);
    return (await ingest.applyVersion({ platform: SHOPIFY, resource: 'customer', externalId, modifiedAt, payload }, async (tx) => {
      const r = await sync.upsertCustomer(tx, input);
      return { localKey: r.value.id, notifications: [] };
    })).status;
  }

  /** A fulfillment's tracking and carrier status on the order's timeline. */
  async function fulfillment(payload: Json): Promise<Outcome> {
    const { externalId, modifiedAt } = versionOf(payload);
    const mapped = mapFulfillment(payload);
    if (!mapped) throw new IgnoredPayload(`fulfillment ${String(payload.status)}: nothing to tell the customer`);
    const number = await ingest.localKeyOf(SHOPIFY, 'order', mapped.orderId);
    // The order's own webhook carries its fulfillments too, so nothing is lost by refusing here.
    if (!number) throw new RefusedPayload(`order ${mapped.orderId} is not known to Kabinet yet (its orders/create delivery has not arrived)`);
    const eventId = eventIdOf('fulfillment', externalId, modifiedAt, payload);
    return (await ingest.applyVersion({ platform: SHOPIFY, resource: 'fulfillment', externalId, modifiedAt, payload }, async (tx) => {
      const r = await sync.changeOrderStatus(tx, number, mapped.change, { eventId, notify: true });
      return { localKey: number, notifications: r.notifications };
    })).status;
  }

  return {
    order,
    product,
    customer,
    fulfillment,
    orderNumberOf,
    /** A webhook delivery by X-Shopify-Topic. */
    async webhook(topic: string, payload: Json): Promise<Outcome> {
      switch (topic) {
        case 'orders/create':
        case 'orders/updated':
        case 'orders/fulfilled':
        case 'orders/cancelled':
        case 'orders/paid':
        case 'orders/partially_fulfilled':
          return order(payload, true);
        case 'fulfillments/create':
        case 'fulfillments/update':
          return fulfillment(payload);
        case 'products/create':
        case 'products/update':
          return product(payload, true);
        case 'customers/create':
        case 'customers/update':
          return customer(payload);
        default:
          throw new RefusedPayload(`unsupported topic "${topic.slice(0, 60)}"`);
      }
    },
  };
}
