/** NUL characters in a signed shop body are dropped before anything is stored (PostgreSQL refuses 0x00). */
import { describe, expect, it } from 'vitest';
import type { App } from '../../../src/server/app.js';
import type { TestContext } from '../../support/context.js';
import { useShopApp, productInput, signedPost } from './helpers.js';

let ctx: TestContext;
let app: App;

useShopApp((w) => ({ ctx, app } = w));

describe('shop API: NUL in text', () => {
  it('stores a product whose name and description carry NUL, without the NUL', async () => {
    const res = await signedPost(app, '/api/v1/products', { eventId: 'evt-nul-1', product: productInput('NUL-1', { name: 'Чай\u0000 белый', nameEn: '\u0000White tea' }) });
    expect(res.statusCode).toBe(200);
    const row = await ctx.prisma.product.findUniqueOrThrow({ where: { sku: 'NUL-1' } });
    expect([row.name, row.nameEn]).toEqual(['Чай белый', 'White tea']);
  });
});
