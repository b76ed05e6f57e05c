/** GET /api/admin/integrations/events: what the shop platforms delivered, refused ones with the reason. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApiPlugin } from '../../../src/api/admin/plugin.js';
import { createIngest } from '../../../src/integrations/ingest.js';
import { buildApp, type App } from '../../../src/server/app.js';
import { createTestContext, type TestContext } from '../../support/context.js';

const TOKEN = 'admin-token-0123456789abcdef';
let ctx: TestContext;
let app: App;
const auth = { authorization: `Bearer ${TOKEN}` };

beforeAll(async () => {
  ctx = await createTestContext();
  const outbox = { list: async () => [], retryDead: async () => null };
  app = await buildApp({ logger: ctx.logger, health: [], docs: false, plugins: [{ plugin: adminApiPlugin, options: { prefix: '/api/admin', token: TOKEN, outbox, prisma: ctx.prisma } }] });
  const ingest = createIngest({ prisma: ctx.prisma, afterWrite: async () => {}, logger: ctx.logger });
  await ingest.record({ platform: 'woocommerce', topic: 'order.updated', deliveryId: 'd1', externalId: '5', status: 'applied', payload: { id: 5 } });
  await ingest.record({ platform: 'woocommerce', topic: 'order.updated', deliveryId: 'd2', externalId: '6', status: 'refused', reason: 'unknown order status "x"', payload: { id: 6, status: 'x' } });
  await ingest.record({ platform: 'shopify', topic: 'orders/create', deliveryId: 'w1', externalId: '7', status: 'refused', reason: 'order has no line_items', payload: { id: 7 } });
});
afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

describe('admin API: shop-platform deliveries', () => {
  it('lists refused deliveries newest first with reason and payload; applied ones keep no payload', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/admin/integrations/events?status=refused', headers: auth });
    expect(res.statusCode).toBe(200);
    const { items, nextCursor } = res.json() as { items: Array<Record<string, unknown>>; nextCursor: string | null };
    expect(items.map((i) => [i.platform, i.reason, i.payload])).toEqual([
      ['shopify', 'order has no line_items', { id: 7 }],
      ['woocommerce', 'unknown order status "x"', { id: 6, status: 'x' }],
    ]);
    expect(nextCursor).toBeNull();
    const applied = (await app.inject({ method: 'GET', url: '/api/admin/integrations/events?platform=woocommerce&status=applied', headers: auth })).json() as { items: Array<Record<string, unknown>> };
    expect(applied.items).toHaveLength(1);
    expect(applied.items[0]!.payload).toBeNull();
  });

  it('pages with a cursor, coerces the limit, refuses a bad filter and a missing token', async () => {
    const first = (await app.inject({ method: 'GET', url: '/api/admin/integrations/events?limit=2', headers: auth })).json() as { items: unknown[]; nextCursor: string };
    expect(first.items).toHaveLength(2);
    const second = (await app.inject({ method: 'GET', url: `/api/admin/integrations/events?limit=2&cursor=${first.nextCursor}`, headers: auth })).json() as { items: unknown[] };
    expect(second.items).toHaveLength(1);
    expect((await app.inject({ method: 'GET', url: '/api/admin/integrations/events?platform=magento', headers: auth })).statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: '/api/admin/integrations/events' })).statusCode).toBe(401);
  });
});
