/**
 * The scenario world (Kabinet's Telegram and VK edges, the shop API and the send workers
 * against the fake Telegram and VK) plus the shop-platform webhook routes on their own app,
 * configured as a shop on WooCommerce or Shopify would configure them.
 */
import { readFileSync } from 'node:fs';
import { isSafeNumber, LosslessNumber, parse as parseLossless } from 'lossless-json';
import type { Env } from '../../src/config/index.js';
import { integrationsPlugin } from '../../src/integrations/plugin.js';
import { buildApp, type App } from '../../src/server/app.js';
import { createShopServices } from '../../src/shop-services.js';
import { QueueName } from '../../src/queues/names.js';
import { testConfig } from '../support/context.js';
import { createWorld, type World } from '../scenarios/world.js';

export interface PlatformWorld {
  world: World;
  app: App;
  /** Base URL of the integrations routes: `${url}/woocommerce/webhook`, `${url}/shopify/webhook`. */
  url: string;
  close(): Promise<void>;
}

export async function createPlatformWorld(env: Env): Promise<PlatformWorld> {
  const world = await createWorld({ workers: true });
  const integrations = testConfig({ DATABASE_URL: world.ctx.config.databaseUrl, ...env }).integrations;
  const shop = createShopServices(world.ctx);
  const app = await buildApp({
    logger: world.ctx.logger,
    health: [],
    docs: false,
    plugins: [{ plugin: integrationsPlugin, options: { prefix: '/integrations', config: integrations, prisma: world.ctx.prisma, sync: shop.sync, afterWrite: shop.afterWrite, logger: world.ctx.logger, clock: world.ctx.clock } }],
  });
  // Restocks and price drops fan out to subscribers in a worker, as in the worker role.
  const fanoutWorker = world.ctx.queues.worker(QueueName.alertFanout, shop.fanouts.processor);
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    world,
    app,
    url: `${base}/integrations`,
    async close() {
      await app.close();
      await fanoutWorker.close();
      await world.close();
    },
  };
}

/** A platform's documented example payload, from test/integrations/fixtures/<platform>/<name>.json. */
export function fixture(platform: 'woocommerce' | 'shopify', name: string): Record<string, unknown> {
  // Big ids stay exact (LosslessNumber), and the look-alikes send them back as written.
  const text = readFileSync(new URL(`./fixtures/${platform}/${name}.json`, import.meta.url), 'utf8');
  return parseLossless(text, null, (digits) => (isSafeNumber(digits) ? Number(digits) : new LosslessNumber(digits))) as Record<string, unknown>;
}
