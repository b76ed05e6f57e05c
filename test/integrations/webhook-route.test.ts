/**
 * The shop-platform webhook route with validly signed bodies Kabinet cannot use, whose text
 * PostgreSQL refuses as it stands: NUL in a key, a UTF-16 surrogate without its other half in
 * a key or a value (valid JSON text, refused by jsonb). Storing such a delivery as "refused"
 * was a 500, which the platform retries (WooCommerce disables a webhook after repeated
 * failures). Each is now answered 200 and stored once, its text made storable (NUL dropped,
 * a lone surrogate replaced by U+FFFD). Found by `npm run bench:hostile`.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { integrationsPlugin } from '../../src/integrations/plugin.js';
import { parsePlatformJson } from '../../src/integrations/webhook-route.js';
import { buildApp, type App } from '../../src/server/app.js';
import { createShopServices } from '../../src/shop-services.js';
import { createTestContext, type TestContext } from '../support/context.js';

const SECRET = 'woo-hostile-secret';
let ctx: TestContext;
let app: App;

beforeAll(async () => {
  ctx = await createTestContext({ env: { WOOCOMMERCE_WEBHOOK_SECRET: SECRET } });
  const shop = createShopServices(ctx);
  app = await buildApp({
    logger: ctx.logger,
    health: [],
    docs: false,
    plugins: [{ plugin: integrationsPlugin, options: { prefix: '/integrations', config: ctx.config.integrations, prisma: ctx.prisma, sync: shop.sync, afterWrite: shop.afterWrite, logger: ctx.logger, clock: ctx.clock } }],
  });
});
afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

const ODD = ['\u0000', 'a\u0000b', '\ud800', 'x\udfffy', '\udc00\ud800', 'ok\ud83d', '\ud83d\ude00', '\u202e\ufeff'];

function deliver(raw: string, topic = 'order.updated') {
  const signature = createHmac('sha256', SECRET).update(raw).digest('base64');
  return app.inject({ method: 'POST', url: '/integrations/woocommerce/webhook', headers: { 'content-type': 'application/json', 'x-wc-webhook-signature': signature, 'x-wc-webhook-topic': topic }, payload: raw });
}

describe('shop-platform webhook: text PostgreSQL cannot store', () => {
  it('200 signed deliveries with NUL or lone surrogates in keys and values: each 200, stored once as refused, nothing else written', async () => {
    const ordersBefore = await ctx.prisma.order.count();
    const customersBefore = await ctx.prisma.customer.count();
    const eventsBefore = await ctx.prisma.integrationEvent.count();
    const statuses = new Map<number, number>();
    const N = 200;
    for (let i = 0; i < N; i++) {
      const odd = ODD[i % ODD.length]!;
      const other = ODD[(i * 3 + 1) % ODD.length]!;
      // JSON.stringify writes a lone surrogate as a \u escape, as a platform's JSON encoder may.
      const raw = i % 4 === 0 ? JSON.stringify({ [odd]: other }) : i % 4 === 1 ? JSON.stringify({ id: 100 + i, [`k${odd}`]: { [other]: [odd] } }) : i % 4 === 2 ? JSON.stringify({ hello: odd, nested: { [odd]: other } }) : JSON.stringify({ id: `x${odd}`, status: other });
      // Headers are Latin-1 on the wire (Node refuses NUL in one): an odd but possible topic.
      const res = await deliver(raw, i % 2 ? 'order.updated' : 'product.\u00ff\u00fe');
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 200: N });
    expect(await ctx.prisma.integrationEvent.count()).toBe(eventsBefore + N);
    expect(await ctx.prisma.order.count()).toBe(ordersBefore);
    expect(await ctx.prisma.customer.count()).toBe(customersBefore);
  });

  it('a signed body that is not JSON, stopping the parser at a NUL or half a surrogate pair, is stored as refused (200)', async () => {
    const refused = () => ctx.prisma.integrationEvent.count({ where: { status: 'refused' } });
    const before = await refused();
    for (const raw of ['\u0000{}', '{"a":1,\u0000}', '\ud83d', '{"a":\ud83d\ude00}', '{"\u0000":"\ud800"', '{"a":"\x41"}']) {
      const res = await deliver(raw);
      expect(res.statusCode, JSON.stringify(raw)).toBe(200);
      expect(res.json()).toEqual({ ok: true, status: 'refused' });
    }
    expect(await refused()).toBe(before + 6);
  });

  it('keeps what can be kept: a lone surrogate becomes U+FFFD, a NUL goes, a proper pair stays', () => {
    const parsed = parsePlatformJson(JSON.stringify({ 'a\u0000b': 'x\ud800y', pair: '\ud83d\ude00', list: ['\udfff', 1] })) as Record<string, unknown>;
    expect(parsed).toEqual({ ab: 'x\ufffdy', pair: '😀', list: ['\ufffd', 1] });
  });
});
