/**
 * The initial import against the WooCommerce REST API and Shopify Admin API look-alikes:
 * pagination, 429 with Retry-After, Shopify's call limit, resuming where it stopped, and the
 * progress bar of the command.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeShopify, type FakeShopify } from '../../src/fakes/shopify/fake-shopify.js';
import { createFakeWooCommerce, type FakeWooCommerce } from '../../src/fakes/woocommerce/fake-woocommerce.js';
import { parseImportArgs, runImportCommand } from '../../src/integrations/import-command.js';
import { createShopifyClient, createWooCommerceClient, nextPageInfo, type PlatformClient } from '../../src/integrations/rest-clients.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { fixture } from './support.js';

const noSleep = { sleep: async () => {}, maxRetries: 3 };
const sink = () => {
  let text = '';
  const stream = new Writable({ write(chunk, _enc, done) { text += String(chunk); done(); } });
  return { stream, text: () => text };
};

// Hundreds of items, each in its own transaction: generous time on a loaded 2-core machine.
describe('import from WooCommerce', { timeout: 120_000 }, () => {
  let ctx: TestContext;
  let woo: FakeWooCommerce;
  let url: string;
  beforeAll(async () => {
    woo = createFakeWooCommerce();
    url = await woo.listen();
    ctx = await createTestContext({ env: { WOOCOMMERCE_WEBHOOK_SECRET: 'w', WOOCOMMERCE_URL: url, WOOCOMMERCE_CONSUMER_KEY: woo.consumerKey, WOOCOMMERCE_CONSUMER_SECRET: woo.consumerSecret } });
    const customer = fixture('woocommerce', 'customer.created');
    for (let i = 1; i <= 120; i++) woo.add('customers', { ...customer, id: i, email: `c${i}@example.com`, billing: { ...(customer.billing as object), phone: `+7912${String(1_000_000 + i).slice(-7)}` } });
    woo.add('customers', { ...customer, id: 121, billing: { phone: '' }, shipping: { phone: '' } });
    const product = fixture('woocommerce', 'product.updated');
    for (let i = 1; i <= 40; i++) woo.add('products', { ...product, id: 1000 + i, sku: `WC-${i}`, name: `Товар ${i}` });
    woo.add('products', { ...product, id: 2000, sku: '', name: 'Футболка', type: 'variable', variations: [2001, 2002] });
    woo.addVariation(2000, { id: 2001, sku: 'TS-M', price: '990', regular_price: '990', manage_stock: true, stock_quantity: 4, stock_status: 'instock', status: 'publish', attributes: [{ name: 'Размер', option: 'M' }], date_modified_gmt: '2026-12-01T00:00:00' });
    woo.addVariation(2000, { id: 2002, sku: 'TS-L', price: '990', regular_price: '990', manage_stock: true, stock_quantity: 0, stock_status: 'outofstock', status: 'publish', attributes: [{ name: 'Размер', option: 'L' }], date_modified_gmt: '2026-12-01T00:00:00' });
    const order = fixture('woocommerce', 'order.updated');
    for (let i = 1; i <= 12; i++) woo.add('orders', { ...order, id: 5000 + i, number: String(5000 + i), customer_id: i, billing: { ...(order.billing as object), phone: `+7912${String(1_000_000 + i).slice(-7)}` }, date_created_gmt: '2026-12-01T10:00:00' });
    woo.add('orders', { ...order, id: 4000, number: '4000', date_created_gmt: '2020-01-01T10:00:00' });
  });
  afterAll(async () => {
    await ctx?.close();
    await woo?.close();
  });

  it('pages through customers, products (variations of variable ones) and recent orders, with a progress bar, honouring 429', async () => {
    woo.throttle(2, 1);
    const out = sink();
    const client = createWooCommerceClient({ url, consumerKey: woo.consumerKey, consumerSecret: woo.consumerSecret, perPage: 50, ...noSleep });
    const summary = await runImportCommand(ctx, { platform: 'woocommerce', days: 365, restart: false }, { stream: out.stream, client });
    expect(summary.resources.customers).toMatchObject({ imported: 121, failed: 0 });
    expect(summary.resources.products).toMatchObject({ imported: 42, failed: 0 });
    expect(summary.resources.orders).toMatchObject({ imported: 12, failed: 0 });
    expect(await ctx.prisma.customer.count()).toBe(120);
    expect(await ctx.prisma.integrationEvent.count({ where: { status: 'ignored', topic: 'import/customers' } })).toBe(1);
    expect(await ctx.prisma.product.findUniqueOrThrow({ where: { sku: 'TS-M' } })).toMatchObject({ name: 'Футболка — M', stock: 4, platformRef: '2001' });
    expect(await ctx.prisma.order.count()).toBe(12);
    // History is not news: imported orders message nobody and accrue no points.
    expect(await ctx.prisma.notification.count()).toBe(0);
    expect(await ctx.prisma.loyaltyTransaction.count()).toBe(0);
    const throttled = woo.requests.filter((r) => r.status === 429);
    expect(throttled).toHaveLength(2);
    expect(woo.requests.filter((r) => r.path.endsWith('/customers') && r.status === 200).map((r) => r.query.page)).toEqual(['1', '2', '3']);
    expect(woo.requests.find((r) => r.path.endsWith('/orders'))?.query.after).toBeDefined();
    expect(out.text()).toMatch(/customers .*121\/121/);
    expect(out.text()).toMatch(/orders .*12\/12/);
  });

  it('a second run resumes: finished resources are not fetched again; --restart starts over', async () => {
    const before = woo.requests.length;
    await runImportCommand(ctx, { platform: 'woocommerce', days: 365, restart: false }, { stream: sink().stream, client: createWooCommerceClient({ url, consumerKey: woo.consumerKey, consumerSecret: woo.consumerSecret, ...noSleep }) });
    expect(woo.requests.length).toBe(before);
    await runImportCommand(ctx, { platform: 'woocommerce', days: 365, restart: true }, { stream: sink().stream, client: createWooCommerceClient({ url, consumerKey: woo.consumerKey, consumerSecret: woo.consumerSecret, perPage: 100, ...noSleep }) });
    expect(woo.requests.length).toBeGreaterThan(before);
    expect(await ctx.prisma.customer.count()).toBe(120);
  });

  it('stops on bad credentials with the platform\'s message, and resumes from the page it reached after an interruption', async () => {
    const bad = createWooCommerceClient({ url, consumerKey: 'ck_wrong', consumerSecret: 'cs_wrong', ...noSleep });
    await expect(runImportCommand(ctx, { platform: 'woocommerce', days: 365, restart: true }, { stream: sink().stream, client: bad })).rejects.toThrow(/401.*cannot list resources/);

    const real = createWooCommerceClient({ url, consumerKey: woo.consumerKey, consumerSecret: woo.consumerSecret, perPage: 50, ...noSleep });
    let calls = 0;
    const dying: PlatformClient = { ...real, async page(resource, cursor, o) { if (++calls === 3) throw new Error('connection reset'); return real.page(resource, cursor, o); } };
    await expect(runImportCommand(ctx, { platform: 'woocommerce', days: 365, restart: true }, { stream: sink().stream, client: dying })).rejects.toThrow('connection reset');
    const saved = await ctx.prisma.integrationImport.findUniqueOrThrow({ where: { platform_resource: { platform: 'woocommerce', resource: 'customers' } } });
    expect(saved).toMatchObject({ cursor: '3', done: false, imported: 100 });
    const pagesBefore = woo.requests.filter((r) => r.path.endsWith('/customers') && r.status === 200).length;
    await runImportCommand(ctx, { platform: 'woocommerce', days: 365, restart: false }, { stream: sink().stream, client: real });
    const resumedPages = woo.requests.filter((r) => r.path.endsWith('/customers') && r.status === 200).slice(pagesBefore).map((r) => r.query.page);
    expect(resumedPages).toEqual(['3']);
  });
});

describe('import from Shopify', { timeout: 120_000 }, () => {
  let ctx: TestContext;
  let shopify: FakeShopify;
  let url: string;
  let clock = 0;
  beforeAll(async () => {
    shopify = createFakeShopify({ bucketSize: 10, leakPerSecond: 2, now: () => clock });
    url = await shopify.listen();
    ctx = await createTestContext({ env: { SHOPIFY_WEBHOOK_SECRET: 's', SHOPIFY_SHOP_DOMAIN: shopify.shopDomain, SHOPIFY_ACCESS_TOKEN: shopify.accessToken, SHOPIFY_API_BASE_URL: url } });
    const customer = fixture('shopify', 'customers-create');
    for (let i = 1; i <= 35; i++) shopify.add('customers', { ...customer, id: 100 + i, phone: `+1613555${String(1000 + i)}` });
    const product = fixture('shopify', 'products-update');
    for (let i = 1; i <= 12; i++) shopify.add('products', { ...product, id: 900 + i, handle: `p-${i}`, variants: [{ ...(product.variants as object[])[0], id: 70_000 + i, sku: `SH-${i}` }] });
    const order = fixture('shopify', 'orders-create');
    for (let i = 1; i <= 25; i++) shopify.add('orders', { ...order, id: 3000 + i, order_number: 3000 + i, name: `#${3000 + i}`, created_at: '2026-12-01T12:00:00-05:00', closed_at: i % 2 ? '2026-12-02T12:00:00-05:00' : null });
  });
  afterAll(async () => {
    await ctx?.close();
    await shopify?.close();
  });

  it('follows Link page_info cursors, asks status=any for orders, and waits out the leaky bucket and 429', async () => {
    const waits: number[] = [];
    const client = createShopifyClient({
      baseUrl: url, accessToken: shopify.accessToken, apiVersion: '2025-01', limit: 10, maxRetries: 5,
      // The look-alike's clock moves only when Kabinet waits: a full bucket drains as it would.
      sleep: async (ms) => { waits.push(ms); clock += ms; },
    });
    const summary = await runImportCommand(ctx, { platform: 'shopify', days: 30, restart: false }, { stream: sink().stream, client });
    expect(summary.resources).toMatchObject({ customers: { imported: 35 }, products: { imported: 12 }, orders: { imported: 25 } });
    expect(await ctx.prisma.order.count()).toBe(25);
    expect(await ctx.prisma.product.findUniqueOrThrow({ where: { sku: 'SH-3' } })).toMatchObject({ platformRef: '70003' });
    const pages = shopify.requests.filter((r) => r.path.endsWith('/customers.json') && r.status === 200);
    expect(pages).toHaveLength(4);
    expect(pages.slice(1).every((r) => r.query.page_info && Object.keys(r.query).sort().join() === 'limit,page_info')).toBe(true);
    expect(shopify.requests.find((r) => r.path.endsWith('/orders.json'))?.query.status).toBe('any');
    // It paced itself on the call-limit header; any 429 was waited out for Retry-After.
    expect(waits.length).toBeGreaterThan(0);
    expect(shopify.requests.filter((r) => r.status === 429).length).toBeLessThanOrEqual(waits.filter((w) => w === 2000).length);
    expect(shopify.requests.filter((r) => r.status >= 400 && r.status !== 429)).toEqual([]);
  });

  it('reads the next cursor from a Link header with prev and next', () => {
    expect(nextPageInfo('<https://s/admin/api/2025-01/orders.json?limit=10&page_info=abc>; rel="previous", <https://s/admin/api/2025-01/orders.json?limit=10&page_info=def>; rel="next"')).toBe('def');
    expect(nextPageInfo('<https://s/admin/api/2025-01/orders.json?limit=10&page_info=abc>; rel="previous"')).toBeNull();
    expect(nextPageInfo(null)).toBeNull();
  });

  it('parses its arguments strictly', () => {
    expect(parseImportArgs(['shopify', '--days=30', '--restart'])).toEqual({ platform: 'shopify', days: 30, restart: true });
    expect(parseImportArgs(['magento'])).toMatch(/usage/);
    expect(parseImportArgs(['woocommerce', '--since=yesterday'])).toMatch(/unknown option/);
  });
});
