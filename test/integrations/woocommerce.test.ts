/**
 * WooCommerce's own webhooks, shaped like its documented REST v3 resources (fixtures), sent by
 * the WooCommerce look-alike to Kabinet's route, end in the right messages to a customer on
 * Telegram and on VK.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createFakeWooCommerce, wooSignature, type FakeWooCommerce } from '../../src/fakes/woocommerce/fake-woocommerce.js';
import { createCartLinkBuilder } from '../../src/integrations/cart-links.js';
import { testConfig } from '../support/context.js';
import { telegramDriver, vkDriver, type Driver } from '../scenarios/drivers.js';
import { createPlatformWorld, fixture, type PlatformWorld } from './support.js';

const SECRET = 'woo-webhook-secret-for-tests';
let pw: PlatformWorld;
let woo: FakeWooCommerce;
let hook: string;

beforeAll(async () => {
  pw = await createPlatformWorld({ WOOCOMMERCE_WEBHOOK_SECRET: SECRET, WOOCOMMERCE_URL: 'https://shop.example', WOOCOMMERCE_STATUS_MAP: 'awaiting-pickup:ready_for_pickup' });
  woo = createFakeWooCommerce({ webhookSecret: SECRET });
  hook = `${pw.url}/woocommerce/webhook`;
});
afterAll(async () => {
  await pw?.close();
});

const statusOf = async (res: Response) => ((await res.json()) as { status: string }).status;
const prisma = () => pw.world.ctx.prisma;
const events = (status?: string) => prisma().integrationEvent.findMany({ where: { platform: 'woocommerce', ...(status ? { status } : {}) }, orderBy: { id: 'asc' } });

describe('WooCommerce webhooks: the edge', () => {
  it('answers the unsigned ping sent when a webhook is saved, and changes nothing', async () => {
    const before = await prisma().integrationEvent.count();
    const res = await woo.ping(hook, 12);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, status: 'ping' });
    expect(await prisma().integrationEvent.count()).toBe(before);
    expect(await prisma().customer.count()).toBe(0);
  });

  it('refuses an unsigned or wrongly signed delivery with 401 before reading it, writing nothing', async () => {
    const body = JSON.stringify(fixture('woocommerce', 'customer.created'));
    const unsigned = await fetch(hook, { method: 'POST', headers: { 'content-type': 'application/json', 'x-wc-webhook-topic': 'customer.created' }, body });
    expect(unsigned.status).toBe(401);
    expect(((await unsigned.json()) as { error: string }).error).toBe('unauthorized');
    const forged = await woo.deliver(hook, 'customer.created', fixture('woocommerce', 'customer.created'), { secret: 'not-the-secret' });
    expect(forged.status).toBe(401);
    // Form-encoded but not a ping, unsigned: refused too.
    const fake = await fetch(hook, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'webhook_id=1&x=2' });
    expect(fake.status).toBe(401);
    // A large unsigned body is refused from its headers alone.
    const big = await fetch(hook, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(3 * 1024 * 1024) });
    expect(big.status).toBe(401);
    expect(await prisma().customer.count()).toBe(0);
    expect(await events()).toEqual([]);
  });

  it('refuses an oversized signed body with 413 and a malformed one as a stored, refused event (200: no retry loop)', async () => {
    const huge = JSON.stringify({ id: 1, padding: 'x'.repeat(3 * 1024 * 1024) });
    const res = await fetch(hook, { method: 'POST', headers: { 'content-type': 'application/json', 'x-wc-webhook-signature': wooSignature(SECRET, huge), 'x-wc-webhook-topic': 'order.updated' }, body: huge });
    expect(res.status).toBe(413);

    const notJson = '{"id": 5, ';
    const bad = await fetch(hook, { method: 'POST', headers: { 'content-type': 'application/json', 'x-wc-webhook-signature': wooSignature(SECRET, notJson), 'x-wc-webhook-topic': 'order.updated' }, body: notJson });
    expect(bad.status).toBe(200);
    expect((await statusOf(bad))).toBe('refused');

    const unknown = await woo.deliver(hook, 'order.updated', { ...fixture('woocommerce', 'order.created'), id: 9001, number: '9001', status: 'wc-sent-to-moon' });
    expect((await statusOf(unknown))).toBe('refused');
    const shapeless = await woo.deliver(hook, 'order.updated', { hello: 'world' });
    expect((await statusOf(shapeless))).toBe('refused');
    const refused = await events('refused');
    expect(refused.map((e) => e.reason)).toEqual([expect.stringContaining('not JSON'), expect.stringContaining('unknown order status "sent-to-moon"'), 'missing id']);
    expect(refused[1]!.payload).toMatchObject({ id: 9001 });
    expect(await prisma().order.count()).toBe(0);
  });
});

describe('WooCommerce webhooks: an order life cycle reaches the customer on Telegram and VK', () => {
  let tg: Driver;
  let vk: Driver;
  const phone = '+79125550127';

  it('creates the customer by phone, normalised as the API does; the customer logs in on both messengers', async () => {
    const res = await woo.deliver(hook, 'customer.created', fixture('woocommerce', 'customer.created'));
    expect(await res.json()).toEqual({ ok: true, status: 'applied' });
    const customer = await prisma().customer.findUniqueOrThrow({ where: { phone } });
    expect(customer).toMatchObject({ externalId: '26', firstName: 'Ольга', lastName: 'Смирнова', email: 'olga@example.com' });

    // The same delivery again (WooCommerce retried it): nothing changes.
    expect((await statusOf(await woo.deliver(hook, 'customer.created', fixture('woocommerce', 'customer.created'))))).toBe('duplicate');
    // A newer version, then an older one arriving late: the older changes nothing.
    expect((await statusOf(await woo.deliver(hook, 'customer.updated', fixture('woocommerce', 'customer.updated'))))).toBe('applied');
    expect((await statusOf(await woo.deliver(hook, 'customer.created', fixture('woocommerce', 'customer.created'))))).toBe('stale');
    expect((await prisma().customer.findUniqueOrThrow({ where: { phone } })).lastName).toBe('Иванова');

    tg = telegramDriver(pw.world, { firstName: 'Olga' });
    await tg.say('/start');
    await tg.login(phone);
    vk = vkDriver(pw.world, { firstName: 'Olga' });
    await vk.say('/start');
    await vk.login(phone);
    expect(await prisma().channelIdentity.count({ where: { customerId: customer.id } })).toBe(2);
  });

  it('tells both messengers about a new paid order, then its delivery with the tracking number', async () => {
    await woo.deliver(hook, 'product.created', fixture('woocommerce', 'product.created'));
    const created = await woo.deliver(hook, 'order.created', fixture('woocommerce', 'order.created'));
    expect((await statusOf(created))).toBe('applied');
    const order = await prisma().order.findUniqueOrThrow({ where: { number: '727' }, include: { items: { orderBy: { sku: 'asc' } } } });
    expect(order).toMatchObject({ status: 'paid', deliveryMethod: 'Курьер', paymentMethod: 'Оплата при получении', paymentStatus: 'pending' });
    expect(Number(order.total)).toBe(2190);
    expect(Number(order.deliveryCost)).toBe(300);
    expect(Number(order.discount)).toBe(100);
    expect(order.items.map((i) => [i.sku, i.quantity, Number(i.price)])).toEqual([['WC-MUG', 2, 425], ['wc-23', 1, 1040]]);
    for (const p of [tg, vk]) await vi.waitFor(() => expect(p.texts().some((t) => t.includes('727') && t.includes('Заказ оплачен'))).toBe(true), { timeout: 10_000 });

    const updated = await woo.deliver(hook, 'order.updated', fixture('woocommerce', 'order.updated'));
    expect((await statusOf(updated))).toBe('applied');
    const delivered = await prisma().order.findUniqueOrThrow({ where: { number: '727' } });
    expect(delivered).toMatchObject({ status: 'delivered', carrier: 'СДЭК', trackingNumber: '1234567890', paymentStatus: 'paid' });
    for (const p of [tg, vk]) await vi.waitFor(() => expect(p.texts().some((t) => t.includes('Заказ получен'))).toBe(true), { timeout: 10_000 });

    // The order.created delivery retried late (older date_modified) does not undo the delivery.
    expect((await statusOf(await woo.deliver(hook, 'order.created', fixture('woocommerce', 'order.created'))))).toBe('stale');
    expect((await prisma().order.findUniqueOrThrow({ where: { number: '727' } })).status).toBe('delivered');
    // Loyalty: Kabinet's own ledger accrued points for the delivered order, once.
    const accruals = await prisma().loyaltyTransaction.count({ where: { orderId: delivered.id, kind: 'accrual' } });
    expect(accruals).toBe(1);
  });

  it('a restock of a wishlisted product fires the back-in-stock alert on both messengers', async () => {
    const customer = await prisma().customer.findUniqueOrThrow({ where: { phone } });
    const product = await prisma().product.findUniqueOrThrow({ where: { sku: 'WC-MUG' } });
    expect(product).toMatchObject({ stock: 0, platformRef: '93', url: 'https://shop.example/product/mug/' });
    await prisma().wishlistItem.create({ data: { customerId: customer.id, productId: product.id, priceAtAdd: product.price } });
    await prisma().productAlert.create({ data: { customerId: customer.id, productId: product.id, kind: 'back_in_stock' } });

    expect((await statusOf(await woo.deliver(hook, 'product.updated', fixture('woocommerce', 'product.updated'))))).toBe('applied');
    expect((await prisma().product.findUniqueOrThrow({ where: { sku: 'WC-MUG' } })).stock).toBe(5);
    for (const p of [tg, vk]) await vi.waitFor(() => expect(p.texts().some((t) => t.includes('Снова в наличии') && t.includes('Кружка'))).toBe(true), { timeout: 10_000 });
  });

  it('a repeat order links to WooCommerce\'s add-to-cart with the product ids', async () => {
    const link = createCartLinkBuilder({ config: testConfig({ WOOCOMMERCE_WEBHOOK_SECRET: SECRET, WOOCOMMERCE_URL: 'https://shop.example' }), prisma: prisma() });
    await prisma().product.create({ data: { sku: 'wc-23', name: 'Футболка — L', price: 1040, stock: 3, platformRef: '23' } });
    expect(await link([{ sku: 'WC-MUG', quantity: 2 }], '727')).toBe('https://shop.example/cart/?add-to-cart=93&quantity=2');
    expect(await link([{ sku: 'WC-MUG', quantity: 2 }, { sku: 'wc-23', quantity: 1 }], '727')).toBe('https://shop.example/cart/?add-to-cart=93%3A2%2C23%3A1');
    // Nothing the platform knows: the template, so the customer still gets a link.
    expect(await link([{ sku: 'NOT-THERE', quantity: 1 }], '727')).toContain('NOT-THERE');
  });

  it('two real changes in one second (same date_modified) both apply; a deleted product stops being sold', async () => {
    const base = fixture('woocommerce', 'product.updated');
    const later = { ...base, date_modified_gmt: '2026-12-05T10:00:00', price: '400', sale_price: '400' };
    const sameSecond = { ...later, stock_quantity: 3 };
    expect((await statusOf(await woo.deliver(hook, 'product.updated', later, { deliveryId: 'same-id' })))).toBe('applied');
    expect((await statusOf(await woo.deliver(hook, 'product.updated', sameSecond, { deliveryId: 'same-id' })))).toBe('applied');
    expect((await statusOf(await woo.deliver(hook, 'product.updated', sameSecond, { deliveryId: 'same-id' })))).toBe('duplicate');
    const row = await prisma().product.findUniqueOrThrow({ where: { sku: 'WC-MUG' } });
    expect([Number(row.price), row.stock]).toEqual([400, 3]);

    expect((await statusOf(await woo.deliver(hook, 'product.deleted', { id: 93 })))).toBe('applied');
    expect((await prisma().product.findUniqueOrThrow({ where: { sku: 'WC-MUG' } })).isActive).toBe(false);
    expect((await statusOf(await woo.deliver(hook, 'order.deleted', { id: 727 })))).toBe('ignored');
  });
});
