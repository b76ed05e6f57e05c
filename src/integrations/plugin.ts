/**
 * The shop-platform webhook routes under /integrations: WooCommerce and Shopify, each on only
 * when its webhook secret is configured.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { IntegrationsConfig } from '../config/index.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { ShopSync } from '../domain/shop-sync/shop-sync.js';
import type { AfterWrite } from '../domain/shop-sync/shop-sync.js';
import { createIngest, type EventStatus, type Ingest } from './ingest.js';
import { platformWebhookPlugin } from './webhook-route.js';
import { createWooCommerceAdapter, WOO } from './woocommerce/adapter.js';
import { createShopifyAdapter, SHOPIFY } from './shopify/adapter.js';

export interface IntegrationsPluginOptions {
  config: IntegrationsConfig;
  prisma: PrismaClient;
  sync: ShopSync;
  /** Queues notifications and alert fan-outs after a commit (ShopServices.afterWrite). */
  afterWrite: (after: AfterWrite) => Promise<void>;
  logger: Logger;
  clock: Clock;
  /** Webhook bodies above this are refused with 413 (a large order is tens of kB). */
  bodyLimitBytes?: number;
}

const header = (request: FastifyRequest, name: string): string | undefined => {
  const v = request.headers[name];
  return typeof v === 'string' ? v.slice(0, 200) : undefined;
};

const idIn = (body: Record<string, unknown>): string | null => (typeof body.id === 'number' || typeof body.id === 'string' ? String(body.id) : null);

export const integrationsPlugin: FastifyPluginAsync<IntegrationsPluginOptions> = async (app, opts) => {
  const ingest: Ingest = createIngest({ prisma: opts.prisma, afterWrite: opts.afterWrite, logger: opts.logger });
  const bodyLimitBytes = opts.bodyLimitBytes ?? 2 * 1024 * 1024;

  const woo = opts.config.woocommerce;
  if (woo) {
    const adapter = createWooCommerceAdapter({ ingest, sync: opts.sync, config: woo, clock: opts.clock });
    await app.register(platformWebhookPlugin, {
      path: '/woocommerce/webhook',
      platformName: 'WooCommerce',
      secret: woo.webhookSecret,
      signatureHeader: 'x-wc-webhook-signature',
      bodyLimitBytes,
      // Saving a webhook in WooCommerce sends "webhook_id=N", unsigned, to test the URL.
      isUnsignedPing: (type, raw) => /^application\/x-www-form-urlencoded/i.test(type ?? '') && /^webhook_id=\d{1,20}$/.test(raw.toString('latin1').trim()),
      refuseUnparsable: (request, reason) => ingest.record({ platform: WOO, topic: header(request, 'x-wc-webhook-topic') ?? 'unknown', deliveryId: header(request, 'x-wc-webhook-delivery-id'), status: 'refused', reason }),
      handle: async (request, body): Promise<EventStatus> => {
        const topic = header(request, 'x-wc-webhook-topic') ?? 'unknown';
        const payload = body as Record<string, unknown>;
        return ingest.handle(
          { platform: WOO, topic, deliveryId: header(request, 'x-wc-webhook-delivery-id'), externalId: idIn(payload), payload },
          () => adapter.webhook(topic, payload),
        );
      },
    });
  }

  const shopify = opts.config.shopify;
  if (shopify) {
    const adapter = createShopifyAdapter({ ingest, sync: opts.sync, config: shopify });
    await app.register(platformWebhookPlugin, {
      path: '/shopify/webhook',
      platformName: 'Shopify',
      secret: shopify.webhookSecret,
      signatureHeader: 'x-shopify-hmac-sha256',
      bodyLimitBytes,
      refuseUnparsable: (request, reason) => ingest.record({ platform: SHOPIFY, topic: header(request, 'x-shopify-topic') ?? 'unknown', deliveryId: header(request, 'x-shopify-webhook-id'), status: 'refused', reason }),
      handle: async (request, body): Promise<EventStatus> => {
        const topic = header(request, 'x-shopify-topic') ?? 'unknown';
        const webhookId = header(request, 'x-shopify-webhook-id');
        const payload = body as Record<string, unknown>;
        const meta = { platform: SHOPIFY, topic, deliveryId: webhookId, externalId: idIn(payload), payload } as const;
        // A repeat of one delivery carries the same X-Shopify-Webhook-Id.
        if (webhookId && (await opts.prisma.processedEvent.findUnique({ where: { source_eventId: { source: SHOPIFY, eventId: webhookId } } }))) {
          await ingest.record({ ...meta, status: 'duplicate', reason: 'X-Shopify-Webhook-Id seen before' });
          return 'duplicate';
        }
        const status = await ingest.handle(meta, () => adapter.webhook(topic, payload));
        if (webhookId) await opts.prisma.processedEvent.createMany({ data: [{ source: SHOPIFY, eventId: webhookId }], skipDuplicates: true });
        return status;
      },
    });
  }
};
