/**
 * The `web` role: every HTTP edge on one Fastify server. Each edge is a plugin that gets
 * its dependencies from the infrastructure; slow work goes to queues.
 */
import type { Infrastructure } from './infra/infrastructure.js';
import { buildApp, closeGracefully, type App, type AppDeps } from './server/app.js';
import { postgresCheck, redisCheck } from './server/health.js';
import { metricsPlugin } from './server/metrics.js';
import { QueueName } from './queues/names.js';
import { createCustomerChannels } from './channels/customer-channels.js';
import { shopApiPlugin } from './api/shop/plugin.js';
import { adminApiPlugin } from './api/admin/plugin.js';
import { integrationsPlugin } from './integrations/plugin.js';
import { createBroadcastsFromInfra } from './broadcasts/index.js';
import { adminConversationsPlugin } from './api/admin/conversations.js';
import { createTranscriptQueries } from './domain/support/transcripts.js';
import { createShopServices } from './shop-services.js';
import type { Sandbox } from './sandbox/sandbox.js';
import { sandboxPlugin } from './sandbox/sandbox.plugin.js';
import { sandboxBroadcastsPlugin } from './sandbox/broadcasts.plugin.js';
import { staffSandboxPlugin } from './sandbox/staff.plugin.js';
import { createStaffChannel } from './staff/staff-side.js';

export interface Web {
  app: App;
  /** Starts receiving (webhooks registered, long polling started). */
  start(): Promise<void>;
  /** Stops receiving and finishes in-flight requests. */
  stop(): Promise<void>;
}

export interface WebOptions {
  /** Sandbox mode: the fake messengers, their demo people and the browser page. */
  sandbox?: Sandbox;
}

export async function createWeb(infra: Infrastructure, options: WebOptions = {}): Promise<Web> {
  const { config, logger, prisma, redis } = infra;
  const plugins: NonNullable<AppDeps['plugins']> = [
    { plugin: metricsPlugin, options: { queues: infra.queues, queueNames: Object.values(QueueName), token: config.metricsToken, openWithoutToken: config.env !== 'production' } },
  ];
  // The customer bot's routes (Telegram webhook when a secret is set, VK Callback API): they
  // record updates in the durable inbound queue; the worker role runs the brain on them.
  const channels = createCustomerChannels(infra, { sandbox: options.sandbox });
  const telegram = channels.telegram;
  if (telegram?.plugin) plugins.push({ plugin: telegram.plugin });
  if (channels.vk) plugins.push(channels.vk.plugin);
  // The staff bot (operators answer customers from forum topics): webhook route or long polling.
  const staff = config.staff.token ? createStaffChannel(infra) : undefined;
  if (staff?.plugin) plugins.push({ plugin: staff.plugin });
  // The shop's API (signed, idempotent) and the admin API over the outbox.
  const shop = createShopServices(infra);
  const broadcasts = createBroadcastsFromInfra(infra);
  plugins.push(
    {
      plugin: shopApiPlugin,
      options: { prefix: '/api/v1', prisma, services: shop, clock: infra.clock, secrets: config.shop.apiSecrets, toleranceSeconds: config.shop.signatureToleranceSeconds, bodyLimitBytes: config.shop.bodyLimitBytes, batchBodyLimitBytes: config.shop.batchBodyLimitBytes },
    },
    { plugin: adminApiPlugin, options: { prefix: '/api/admin', token: config.adminApiToken, outbox: shop.outbox, prisma, broadcasts } },
    { plugin: adminConversationsPlugin, options: { prefix: '/api/admin', token: config.adminApiToken, transcripts: createTranscriptQueries({ prisma }) } },
  );
  // Shop platforms (WooCommerce, Shopify): their own webhooks, mapped onto the same operations.
  if (config.integrations.woocommerce || config.integrations.shopify) {
    plugins.push({ plugin: integrationsPlugin, options: { prefix: '/integrations', config: config.integrations, prisma, sync: shop.sync, afterWrite: shop.afterWrite, logger, clock: infra.clock } });
  }
  if (options.sandbox) plugins.push({ plugin: sandboxPlugin, options: { sandbox: options.sandbox, prisma, redis, config } });
  if (options.sandbox) plugins.push({ plugin: staffSandboxPlugin, options: { sandbox: options.sandbox, prisma } });
  if (options.sandbox) plugins.push({ plugin: sandboxBroadcastsPlugin, options: { broadcasts } });
  const app = await buildApp({
    logger,
    bodyLimitBytes: config.http.bodyLimitBytes,
    health: [postgresCheck(prisma), redisCheck(redis)],
    plugins,
  });
  return {
    app,
    async start() {
      await app.listen({ host: config.http.host, port: config.http.port });
      await telegram?.start();
      await staff?.start();
    },
    async stop() {
      await telegram?.stop();
      await staff?.stop();
      await closeGracefully(app);
    },
  };
}
