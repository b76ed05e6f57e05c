/** Builds the app with the shop API and admin API, and signs requests like the shop does. */
import { buildApp, type App } from '../../../src/server/app.js';
import { shopApiPlugin } from '../../../src/api/shop/plugin.js';
import { adminApiPlugin } from '../../../src/api/admin/plugin.js';
import { signRequest } from '../../../src/lib/signature.js';
import { createShopServices, type ShopServices } from '../../../src/shop-services.js';
import { afterAll, beforeAll } from 'vitest';
import { createTestContext, type TestContext } from '../../support/context.js';

export const SECRET = 'test-shop-secret-0123456789';
export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface ShopAppOverrides {
  batchMaxItems?: number;
  batchBodyLimitBytes?: number;
  bodyLimitBytes?: number;
  secrets?: string[];
}

export async function buildShopApp(ctx: TestContext, overrides: ShopAppOverrides = {}): Promise<{ app: App; shop: ShopServices }> {
  const shop = createShopServices(ctx);
  await shop.ledger.syncTiers(ctx.prisma);
  const app = await buildApp({
    logger: ctx.logger,
    health: [],
    plugins: [
      { plugin: shopApiPlugin, options: { prefix: '/api/v1', prisma: ctx.prisma, services: shop, clock: ctx.clock, secrets: [SECRET], toleranceSeconds: 300, ...overrides } },
      { plugin: adminApiPlugin, options: { prefix: '/api/admin', token: ADMIN_TOKEN, outbox: shop.outbox } },
    ],
  });
  await app.ready();
  return { app, shop };
}

export interface SignOptions {
  secret?: string;
  at?: Date;
  raw?: string;
  header?: string | null;
  contentType?: string;
}

/** A request signed as the shop signs it: "<t>.<METHOD>.<path with query>.<raw body>". */
export function signedRequest(app: App, method: 'GET' | 'POST', url: string, body: unknown, options: SignOptions = {}) {
  const raw = options.raw ?? (body === undefined ? '' : JSON.stringify(body));
  const header = options.header === null ? undefined : options.header ?? signRequest(options.secret ?? SECRET, { method, path: url, body: raw, now: options.at ?? new Date() });
  return app.inject({
    method,
    url,
    ...(method === 'POST' ? { payload: raw } : {}),
    headers: { ...(method === 'POST' ? { 'content-type': options.contentType ?? 'application/json' } : {}), ...(header ? { 'kabinet-signature': header } : {}) },
  });
}

export const signedPost = (app: App, url: string, body: unknown, options: SignOptions = {}) => signedRequest(app, 'POST', url, body, options);
export const signedGet = (app: App, url: string, options: SignOptions = {}) => signedRequest(app, 'GET', url, undefined, options);

/** Row counts of everything a refused request must not touch. */
export async function rowCounts(ctx: TestContext) {
  return {
    customers: await ctx.prisma.customer.count(),
    products: await ctx.prisma.product.count(),
    orders: await ctx.prisma.order.count(),
    orderItems: await ctx.prisma.orderItem.count(),
    statusEvents: await ctx.prisma.orderStatusEvent.count(),
    events: await ctx.prisma.processedEvent.count(),
    notifications: await ctx.prisma.notification.count(),
    loyalty: await ctx.prisma.loyaltyTransaction.count(),
    fanouts: await ctx.prisma.alertFanout.count(),
    importJobs: await ctx.prisma.importJob.count(),
    consentEvents: await ctx.prisma.consentEvent.count(),
  };
}

export const productInput = (sku: string, extra: Record<string, unknown> = {}) => ({ sku, name: `Товар ${sku}`, price: 1990, stock: 5, ...extra });

/**
 * For a test file: a fresh test context and the shop app over it, built before the file's tests
 * (handed to `use`) and closed after them.
 */
export function useShopApp(use: (world: { ctx: TestContext; app: App; shop: ShopServices }) => void): void {
  let ctx: TestContext | undefined;
  let app: App | undefined;
  beforeAll(async () => {
    ctx = await createTestContext();
    const built = await buildShopApp(ctx);
    app = built.app;
    use({ ctx, ...built });
  });
  afterAll(async () => {
    await app?.close();
    await ctx?.close();
  });
}
