/**
 * WooCommerce → Kabinet: each webhook topic (and each imported resource) becomes the shop-sync
 * operation the signed API would run, ordered by the resource's modification time.
 */
import type { WooCommerceConfig } from '../../config/index.js';
import type { Clock } from '../../infra/clock.js';
import type { ShopSync } from '../../domain/shop-sync/shop-sync.js';
import { contentHash, IgnoredPayload, RefusedPayload, upsertPlatformOrder, type Ingest, type IntegrationResourceKind } from '../ingest.js';
import { mapCustomer, mapOrder, mapProduct, versionOf } from './mapper.js';

type Json = Record<string, unknown>;

export const WOO = 'woocommerce' as const;

export interface WooCommerceAdapterDeps {
  ingest: Ingest;
  sync: ShopSync;
  config: Pick<WooCommerceConfig, 'statusMap'>;
  clock: Clock;
}

export type WooCommerceAdapter = ReturnType<typeof createWooCommerceAdapter>;

const RESOURCES: Record<string, IntegrationResourceKind> = { order: 'order', product: 'product', customer: 'customer' };

export function createWooCommerceAdapter(deps: WooCommerceAdapterDeps) {
  const { ingest, sync } = deps;

  /** Applies one resource; `notify` is false for the initial import (history is not news). */
  async function apply(resource: IntegrationResourceKind, payload: Json, notify: boolean): Promise<'applied' | 'duplicate' | 'stale'> {
    const { externalId, modifiedAt } = versionOf(payload);
    const eventId = `wc:${resource}:${externalId}:${modifiedAt.getTime()}:${contentHash(payload).slice(0, 12)}`;
    const ctx = { eventId, notify, ...(notify ? {} : { history: true }) };
    switch (resource) {
      case 'order': {
        // The initial import is history: stored as it was, no points accrued, nobody told.
        const input = { ...mapOrder(payload, deps.config.statusMap), ...(notify ? {} : { history: true }) };
        return (await ingest.applyVersion({ platform: WOO, resource, externalId, modifiedAt, payload }, async (tx) => {
          return { localKey: input.number, notifications: await upsertPlatformOrder(tx, sync, input, modifiedAt, ctx) };
        })).status;
      }
      case 'product': {
        const input = mapProduct(payload);
        return (await ingest.applyVersion({ platform: WOO, resource, externalId, modifiedAt, payload }, async (tx) => {
          const r = await sync.upsertProduct(tx, input, ctx);
          return { localKey: input.sku, notifications: r.notifications, fanouts: r.fanouts ?? [] };
        })).status;
      }
      case 'customer': {
        const input = mapCustomer(payload);
        return (await ingest.applyVersion({ platform: WOO, resource, externalId, modifiedAt, payload }, async (tx) => {
          const r = await sync.upsertCustomer(tx, input);
          return { localKey: r.value.id, notifications: [] };
        })).status;
      }
      default:
        throw new RefusedPayload(`unsupported resource ${resource}`);
    }
  }

  /** A webhook delivery: topic "order.updated", "product.deleted", ... */
  async function webhook(topic: string, payload: Json): Promise<'applied' | 'duplicate' | 'stale'> {
    const [name, event] = topic.split('.');
    const resource = name ? RESOURCES[name] : undefined;
    if (!resource || !event) throw new RefusedPayload(`unsupported topic "${topic.slice(0, 60)}"`);
    if (event === 'deleted') {
      // A deleted product is no longer sold; deleted orders and customers stay as history.
      if (resource !== 'product') throw new IgnoredPayload(`${topic}: Kabinet keeps the customer's history`);
      return deactivateProduct(payload);
    }
    return apply(resource, payload, true);
  }

  async function deactivateProduct(payload: Json): Promise<'applied' | 'duplicate' | 'stale'> {
    const externalId = String(payload.id ?? '');
    const sku = /^\d+$/.test(externalId) ? await ingest.localKeyOf(WOO, 'product', externalId) : null;
    if (!sku) throw new IgnoredPayload('deleted product was never imported');
    return (await ingest.applyVersion({ platform: WOO, resource: 'product', externalId, modifiedAt: deps.clock.now(), payload }, async (tx) => {
      await tx.product.update({ where: { sku }, data: { isActive: false } });
      return { localKey: sku, notifications: [] };
    })).status;
  }

  return { apply, webhook };
}
