/**
 * Shopify's webhooks, shaped like its documented examples (fixtures), sent by the Shopify
 * look-alike to Kabinet's route, end in the right messages to a customer on Telegram and VK.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createFakeShopify, shopifySignature, type FakeShopify } from '../../src/fakes/shopify/fake-shopify.js';
import { createCartLinkBuilder } from '../../src/integrations/cart-links.js';
import { testConfig } from '../support/context.js';
import { telegramDriver, vkDriver, type Driver } from '../scenarios/drivers.js';
import { createPlatformWorld, fixture, type PlatformWorld } from './support.js';

const SECRET = 'shopify-app-secret-for-tests';
const DOMAIN = 'kabinet-demo.myshopify.com';
let pw: PlatformWorld;
let shopify: FakeShopify;
let hook: string;

beforeAll(async () => {
  pw = await createPlatformWorld({ SHOPIFY_WEBHOOK_SECRET: SECRET, SHOPIFY_SHOP_DOMAIN: DOMAIN });
  shopify = createFakeShopify({ webhookSecret: SECRET, shopDomain: DOMAIN });
  hook = `${pw.url}/shopify/webhook`;
});
afterAll(async () => {
  await pw?.close();
});

const prisma = () => pw.world.ctx.prisma;
const send = async (topic: string, name: string, options: { webhookId?: string; body?: Record<string, unknown> } = {}) => {
  const res = await shopify.deliver(hook, topic, options.body ?? fixture('shopify', name), options.webhookId ? { webhookId: options.webhookId } : {});
  expect(res.status).toBe(200);
  return ((await res.json()) as { status: string }).status;
};

describe('Shopify webhooks: the edge', () => {
  it('refuses unsigned and wrongly signed deliveries with 401, before reading them', async () => {
    const body = JSON.stringify(fixture('shopify', 'customers-create'));
    const unsigned = await fetch(hook, { method: 'POST', headers: { 'content-type': 'application/json', 'x-shopify-topic': 'customers/create' }, body });
    expect(unsigned.status).toBe(401);
    const forged = await fetch(hook, { method: 'POST', headers: { 'content-type': 'application/json', 'x-shopify-topic': 'customers/create', 'x-shopify-hmac-sha256': shopifySignature('wrong', body) }, body });
    expect(forged.status).toBe(401);
    // A form-encoded unsigned body is no ping here: Shopify has none.
    const form = await fetch(hook, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'webhook_id=1' });
    expect(form.status).toBe(401);
    expect(await prisma().customer.count()).toBe(0);
  });

  it('stores an unknown topic or shape as refused, visible to the admin, and answers 200', async () => {
    expect(await send('app/uninstalled', '', { body: { id: 1 } })).toBe('refused');
    expect(await send('orders/create', '', { body: { id: 5, updated_at: '2026-12-01T00:00:00Z', financial_status: 'paid', line_items: [], phone: '+12025550143', order_number: 5 } })).toBe('refused');
    expect(await send('orders/create', '', { body: { ...fixture('shopify', 'orders-create'), id: 77, order_number: 77, financial_status: 'mystery' } })).toBe('refused');
    const refused = await prisma().integrationEvent.findMany({ where: { platform: 'shopify', status: 'refused' }, orderBy: { id: 'asc' } });
    expect(refused.map((e) => e.reason)).toEqual(['unsupported topic "app/uninstalled"', 'order has no line_items', 'unknown financial_status "mystery"']);
    expect(await prisma().order.count()).toBe(0);
  });
});

describe('Shopify webhooks: an order life cycle reaches the customer on Telegram and VK', () => {
  let tg: Driver;
  let vk: Driver;
  const phone = '+12025550143';

  it('the customer logs in with the order phone on both messengers', async () => {
    tg = telegramDriver(pw.world, { firstName: 'Jon', languageCode: 'en' });
    await tg.say('/start');
    await tg.login(phone);
    vk = vkDriver(pw.world, { firstName: 'Jon', languageCode: 'en' });
    await vk.say('/start');
    await vk.login(phone);
    expect(await prisma().channelIdentity.count({ where: { customer: { phone } } })).toBe(2);
  });

  it('orders/create → paid; a repeated X-Shopify-Webhook-Id is dropped; an older orders/updated changes nothing', async () => {
    expect(await send('products/update', 'products-update')).toBe('applied');
    expect(await send('orders/create', 'orders-create', { webhookId: 'wh-1' })).toBe('applied');
    expect(await send('orders/create', 'orders-create', { webhookId: 'wh-1' })).toBe('duplicate');
    const order = await prisma().order.findUniqueOrThrow({ where: { number: '1001' }, include: { items: { orderBy: { sku: 'asc' } }, customer: true } });
    expect(order).toMatchObject({ status: 'paid', currency: 'USD', deliveryMethod: 'Generic Shipping', paymentMethod: 'visa', paymentStatus: 'paid' });
    expect(order.customer.phone).toBe(phone);
    expect(Number(order.total)).toBe(408);
    expect(order.items.map((i) => [i.sku, i.quantity, Number(i.price)])).toEqual([['IPOD2008PINK', 1, 199], ['shopify-457924702', 1, 199]]);
    for (const p of [tg, vk]) await vi.waitFor(() => expect(p.texts().some((t) => t.includes('1001') && /paid/i.test(t))).toBe(true), { timeout: 10_000 });

    // orders/fulfilled (newer) ships it with UPS tracking; then an older orders/updated arrives.
    expect(await send('orders/fulfilled', 'orders-fulfilled')).toBe('applied');
    expect(await send('orders/updated', 'orders-updated')).toBe('stale');
    const shipped = await prisma().order.findUniqueOrThrow({ where: { number: '1001' } });
    expect(shipped).toMatchObject({ status: 'shipped', carrier: 'UPS', trackingNumber: '1Z2345' });
    expect(shipped.trackingUrl).toContain('trackNums=1Z2345');
    for (const p of [tg, vk]) await vi.waitFor(() => expect(p.texts().some((t) => t.includes('1Z2345'))).toBe(true), { timeout: 10_000 });
  });

  it('fulfillments/update with shipment_status delivered delivers the order and tells the customer', async () => {
    expect(await send('fulfillments/create', 'fulfillments-create')).toBe('applied');
    expect(await send('fulfillments/update', 'fulfillments-update')).toBe('applied');
    expect(await send('fulfillments/update', 'fulfillments-create', { body: { ...fixture('shopify', 'fulfillments-create') } })).toBe('stale');
    expect((await prisma().order.findUniqueOrThrow({ where: { number: '1001' } })).status).toBe('delivered');
    for (const p of [tg, vk]) await vi.waitFor(() => expect(p.texts().some((t) => /delivered|received/i.test(t) && t.includes('1001'))).toBe(true), { timeout: 10_000 });
  });

  it('a fulfillment of an order Kabinet has not seen is refused, not retried forever', async () => {
    expect(await send('fulfillments/create', '', { body: { ...fixture('shopify', 'fulfillments-create'), id: 999, order_id: 424242 } })).toBe('refused');
  });

  it('products become one product per variant with the variant id for cart permalinks', async () => {
    const pink = await prisma().product.findUniqueOrThrow({ where: { sku: 'IPOD2008PINK' } });
    expect(pink).toMatchObject({ name: 'IPod Nano - 8GB — Pink', stock: 10, platformRef: '808950810', url: `https://${DOMAIN}/products/ipod-nano?variant=808950810` });
    expect(Number(pink.oldPrice)).toBe(229);
    const link = createCartLinkBuilder({ config: testConfig({ SHOPIFY_WEBHOOK_SECRET: SECRET, SHOPIFY_SHOP_DOMAIN: DOMAIN }), prisma: prisma() });
    expect(await link([{ sku: 'IPOD2008PINK', quantity: 2 }, { sku: 'shopify-457924702', quantity: 1 }], '1001')).toBe(`https://${DOMAIN}/cart/808950810:2,457924702:1?ref=kabinet`);
  });

  it('customers/create and /update: consent follows the SMS subscription; an older update after a newer one changes nothing', async () => {
    expect(await send('customers/create', 'customers-create', { webhookId: 'c-1' })).toBe('applied');
    const created = await prisma().customer.findUniqueOrThrow({ where: { phone: '+16135550135' } });
    expect(created).toMatchObject({ externalId: '706405506930370084', firstName: 'Bob', marketingConsent: true });
    expect(await send('customers/update', 'customers-update', { webhookId: 'c-2' })).toBe('applied');
    expect(await send('customers/create', 'customers-create', { webhookId: 'c-3' })).toBe('stale');
    const updated = await prisma().customer.findUniqueOrThrow({ where: { phone: '+16135550135' } });
    expect(updated).toMatchObject({ lastName: 'Buyer', marketingConsent: false });
    expect(await prisma().consentEvent.count({ where: { customerId: created.id, kind: 'marketing' } })).toBe(2);
  });
});
