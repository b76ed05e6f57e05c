/**
 * Signed shop API bodies with lone UTF-16 surrogates ("\ud800" is valid JSON text): batch
 * routes answered 500 (the per-item errors quote the item's key and are stored as jsonb, which
 * refuses them), so the shop would retry the same batch forever. They are replaced by U+FFFD
 * when the verified body is parsed, as NUL is dropped (src/lib/strip-nul.ts). Found next to
 * `npm run bench:hostile`, probing the batch routes with its odd strings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../src/server/app.js';
import { createTestContext, type TestContext } from '../../support/context.js';
import { buildShopApp, signedGet, signedPost } from './helpers.js';

let ctx: TestContext;
let app: App;

beforeAll(async () => {
  ctx = await createTestContext();
  ({ app } = await buildShopApp(ctx, { batchMaxItems: 500 }));
});
afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

const ODD = ['\ud800', 'a\udfffb', '\udc00\ud800', 'x\ud83d', '\u0000\ud800'];

describe('lone surrogates in a signed body', () => {
  it('batch imports of 200 items with lone surrogates in keys and values: answered 200 with per-item errors, never 500', async () => {
    for (const [path, item] of [
      ['/api/v1/products/batch', (o: string, i: number) => ({ sku: `${o}${i}`, name: o, price: 'not a number', [o]: o })],
      ['/api/v1/customers/batch', (o: string, i: number) => ({ phone: `${o}${i}`, externalId: `${o}${i}` })],
      ['/api/v1/orders/batch', (o: string, i: number) => ({ number: `${o}${i}`, customerPhone: o })],
    ] as const) {
      const items = Array.from({ length: 200 }, (_, i) => item(ODD[i % ODD.length]!, i));
      const res = await signedPost(app, path, { eventId: `odd-${path.split('/')[3]}`, items });
      expect(res.statusCode, `${path}: ${res.body.slice(0, 200)}`).toBe(200);
      const answer = res.json() as { errors: Array<{ index: number; key?: string }> };
      expect(answer.errors).toHaveLength(200);
      expect(answer.errors.every((e) => !/[\ud800-\udfff]/.test(`${e.key ?? ''}`.replace(/[\ud800-\udbff][\udc00-\udfff]/g, '')))).toBe(true);
    }
  });

  it('the async form: the job records its item errors and reads back', async () => {
    const items = ODD.map((o, i) => ({ sku: `${o}${i}`, name: o, price: -1 }));
    const res = await signedPost(app, '/api/v1/products/batch?async=true', { eventId: 'odd-async', items });
    expect(res.statusCode, res.body.slice(0, 200)).toBe(202);
    const { jobId } = res.json() as { jobId: string };
    expect((await signedGet(app, `/api/v1/jobs/${jobId}`)).statusCode).toBe(200);
  });

  it('a single write keeps the text, a lone surrogate as U+FFFD', async () => {
    const res = await signedPost(app, '/api/v1/customers', { eventId: 'odd-customer', customer: { phone: '+79990001122', firstName: 'Ан\ud800на', externalId: 'ext-\udfff' } });
    expect(res.statusCode, res.body).toBe(200);
    const customer = await ctx.prisma.customer.findUniqueOrThrow({ where: { phone: '+79990001122' } });
    expect(customer.firstName).toBe('Ан\ufffdна');
    expect(customer.externalId).toBe('ext-\ufffd');
  });
});
