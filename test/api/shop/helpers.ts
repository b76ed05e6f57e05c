/** Builds the app with the shop API and admin API, and signs requests like the shop does. */
import { buildApp, type App } from '../../../src/server/app.js';
import { shopApiPlugin } from '../../../src/api/shop/plugin.js';
import { adminApiPlugin } from '../../../src/api/admin/plugin.js';
import { signPayload } from '../../../src/lib/signature.js';
import { createShopServices, type ShopServices } from '../../../src/shop-services.js';
import type { TestContext } from '../../support/context.js';

export const SECRET = 'test-shop-secret-0123456789';
export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export async function buildShopApp(ctx: TestContext, overrides: { batchMaxItems?: number; batchBodyLimitBytes?: number } = {}): Promise<{ app: App; shop: ShopServices }> {
  const shop = createShopServices(ctx);
  await shop.ledger.syncTiers(ctx.prisma);
  const app = await buildApp({
    logger: ctx.logger,
    health: [],
    plugins: [
      { plugin: shopApiPlugin, options: { prefix: '/api/v1', prisma: ctx.prisma, sync: shop.sync, ledger: shop.ledger, notifications: shop.notifications, clock: ctx.clock, secret: SECRET, toleranceSeconds: 300, ...overrides } },
      { plugin: adminApiPlugin, options: { prefix: '/api/admin', token: ADMIN_TOKEN, outbox: shop.outbox } },
    ],
  });
  await app.ready();
  return { app, shop };
}

export function signedPost(app: App, url: string, body: unknown, options: { secret?: string; at?: Date; raw?: string; header?: string | null } = {}) {
  const raw = options.raw ?? JSON.stringify(body);
  const header = options.header === null ? undefined : options.header ?? signPayload(options.secret ?? SECRET, raw, options.at ?? new Date());
  return app.inject({ method: 'POST', url, payload: raw, headers: { 'content-type': 'application/json', ...(header ? { 'kabinet-signature': header } : {}) } });
}

/** Row counts of everything a refused request must not touch. */
export async function rowCounts(ctx: TestContext) {
  return {
    customers: await ctx.prisma.customer.count(),
    products: await ctx.prisma.product.count(),
    orders: await ctx.prisma.order.count(),
    events: await ctx.prisma.processedEvent.count(),
    notifications: await ctx.prisma.notification.count(),
    loyalty: await ctx.prisma.loyaltyTransaction.count(),
  };
}

export const productInput = (sku: string, extra: Record<string, unknown> = {}) => ({ sku, name: `Товар ${sku}`, price: 1990, stock: 5, ...extra });
