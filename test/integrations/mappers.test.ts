/** The platform mappings as pure functions: statuses, tracking plugins, money, refusals. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_WOOCOMMERCE_STATUS_MAP, ConfigError, loadConfig } from '../../src/config/index.js';
import { IgnoredPayload, RefusedPayload } from '../../src/integrations/ingest.js';
import { templateCartLink } from '../../src/integrations/cart-links.js';
import * as shopify from '../../src/integrations/shopify/mapper.js';
import * as woo from '../../src/integrations/woocommerce/mapper.js';
import { parsePlatformJson } from '../../src/integrations/webhook-route.js';
import { fixture } from './support.js';

describe('WooCommerce mapping', () => {
  it('maps every WooCommerce status (and the tracking plugins\' shipped/delivered) onto Kabinet\'s', () => {
    const map = DEFAULT_WOOCOMMERCE_STATUS_MAP;
    expect(['pending', 'on-hold', 'processing', 'completed', 'cancelled', 'refunded', 'failed', 'shipped', 'delivered'].map((s) => woo.orderStatusOf(s, map))).toEqual(['created', 'confirmed', 'paid', 'delivered', 'cancelled', 'returned', 'cancelled', 'shipped', 'delivered']);
    expect(woo.orderStatusOf('wc-processing', map)).toBe('paid');
    expect(() => woo.orderStatusOf('checkout-draft', map)).toThrow(IgnoredPayload);
    expect(() => woo.orderStatusOf('lost-in-space', map)).toThrow(RefusedPayload);
  });

  it('lets the shop override the map in config, and refuses a bad entry naming the variable', () => {
    const config = loadConfig({ WOOCOMMERCE_WEBHOOK_SECRET: 'x', WOOCOMMERCE_STATUS_MAP: 'completed:shipped, wc-awaiting-pickup:ready_for_pickup' });
    expect(config.integrations.woocommerce!.statusMap).toMatchObject({ completed: 'shipped', 'awaiting-pickup': 'ready_for_pickup', processing: 'paid' });
    expect(() => loadConfig({ WOOCOMMERCE_WEBHOOK_SECRET: 'x', WOOCOMMERCE_STATUS_MAP: 'completed:teleported' })).toThrow(ConfigError);
    expect(() => loadConfig({ WOOCOMMERCE_WEBHOOK_SECRET: 'x', SHOPIFY_WEBHOOK_SECRET: 'y' })).toThrow(/one of them/);
    expect(loadConfig({}).integrations).toEqual({ woocommerce: undefined, shopify: undefined });
  });

  it('reads tracking from the Shipment Tracking plugin meta, the newest entry', () => {
    const order = { meta_data: [{ key: '_wc_shipment_tracking_items', value: [{ tracking_provider: 'usps', tracking_number: 'A1' }, { tracking_provider: 'russian-post', custom_tracking_provider: '', tracking_number: 'RA123', custom_tracking_link: '' }] }] };
    expect(woo.trackingOf(order)).toEqual({ carrier: 'russian-post', trackingNumber: 'RA123', trackingUrl: null });
    expect(woo.trackingOf({ meta_data: [] })).toEqual({ carrier: null, trackingNumber: null, trackingUrl: null });
  });

  it('refuses amounts that are not numbers and quantities that are not whole', () => {
    const order = fixture('woocommerce', 'order.created');
    expect(() => woo.mapOrder({ ...order, total: 'lots' }, DEFAULT_WOOCOMMERCE_STATUS_MAP)).toThrow(/total is not an amount/);
    expect(() => woo.mapOrder({ ...order, line_items: [{ name: 'x', product_id: 1, quantity: 1.5, price: 1, subtotal: '1' }] }, DEFAULT_WOOCOMMERCE_STATUS_MAP)).toThrow(/quantity/);
    expect(() => woo.mapOrder({ ...order, billing: {}, shipping: {}, customer_id: 0 }, DEFAULT_WOOCOMMERCE_STATUS_MAP)).toThrow(IgnoredPayload);
  });

  it('treats a product whose stock WooCommerce does not count as available, and an unmanaged sold-out one as 0', () => {
    const product = fixture('woocommerce', 'product.updated');
    expect(woo.mapProduct({ ...product, manage_stock: false, stock_quantity: null, stock_status: 'instock' }).stock).toBe(woo.UNCOUNTED_STOCK);
    expect(woo.mapProduct({ ...product, manage_stock: false, stock_quantity: null, stock_status: 'outofstock' }).stock).toBe(0);
    expect(woo.mapProduct({ ...product, status: 'draft' }).isActive).toBe(false);
    expect(() => woo.mapProduct({ ...product, type: 'variable' })).toThrow(IgnoredPayload);
  });
});

describe('Shopify mapping', () => {
  const order = fixture('shopify', 'orders-create');
  it('derives one customer-facing status from financial, fulfillment and cancellation', () => {
    const status = (o: Record<string, unknown>) => shopify.orderStatusOf({ ...order, ...o });
    expect(status({ financial_status: 'pending' })).toBe('created');
    expect(status({ financial_status: 'authorized' })).toBe('confirmed');
    expect(status({ financial_status: 'paid' })).toBe('paid');
    expect(status({ fulfillment_status: 'fulfilled', fulfillments: [{ status: 'success', shipment_status: 'in_transit' }] })).toBe('shipped');
    expect(status({ fulfillment_status: 'fulfilled', fulfillments: [{ status: 'success', shipment_status: 'ready_for_pickup' }] })).toBe('ready_for_pickup');
    expect(status({ fulfillment_status: 'fulfilled', fulfillments: [{ status: 'success', shipment_status: 'delivered' }] })).toBe('delivered');
    expect(status({ cancelled_at: '2026-12-01T00:00:00Z', financial_status: 'voided' })).toBe('cancelled');
    expect(status({ financial_status: 'refunded', fulfillment_status: 'fulfilled' })).toBe('returned');
    expect(() => status({ financial_status: 'bartered' })).toThrow(RefusedPayload);
  });

  it('finds the phone wherever Shopify put it, and keeps "#1001" as 1001', () => {
    expect(shopify.phoneOf({ customer: { default_address: { phone: '123-123-1234' } } })).toBe('123-123-1234');
    expect(shopify.orderNumberOf({ name: '#1001' })).toBe('1001');
  });

  it('keeps ids beyond 2^53 exact and drops NUL', () => {
    expect(parsePlatformJson('{"id":820982911946154508,"price":"1.50","n":2.5,"s":"a\\u0000b"}')).toEqual({ id: '820982911946154508', price: '1.50', n: 2.5, s: 'ab' });
  });
});

describe('cart links', () => {
  it('fills the template for a shop on the signed API', () => {
    expect(templateCartLink('https://s/cart?items={items}&o={order}', [{ sku: 'A', quantity: 2 }, { sku: 'B/1', quantity: 1 }], '7')).toBe('https://s/cart?items=A%3A2%2CB%2F1%3A1&o=7');
  });
});
