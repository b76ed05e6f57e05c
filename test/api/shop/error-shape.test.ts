import { TypeCompiler } from '@sinclair/typebox/compiler';
import { describe, expect, it } from 'vitest';
import { ErrorAnswer } from '../../../src/api/shop/schemas.js';
import type { App } from '../../../src/server/app.js';
import type { TestContext } from '../../support/context.js';
import { useShopApp, productInput, signedPost } from './helpers.js';

let ctx: TestContext;
let app: App;

useShopApp((w) => ({ ctx, app } = w));

const documented = TypeCompiler.Compile(ErrorAnswer);

describe('one error shape for every 400', () => {
  it('a schema refusal and a domain refusal answer the same shape, naming the field by its dot path in the body', async () => {
    const schema = await signedPost(app, '/api/v1/products', { eventId: 'evt-shape-1', product: productInput('SH-1', { colour: 'red' }) });
    const domain = await signedPost(app, '/api/v1/customers', { eventId: 'evt-shape-2', customer: { phone: '12' } });
    for (const res of [schema, domain]) {
      expect(res.statusCode).toBe(400);
      expect(documented.Check(res.json())).toBe(true);
      expect(Object.keys(res.json()).sort()).toEqual(['error', 'fields', 'message', 'requestId']);
      expect(res.json().requestId).toBe(res.headers['request-id']);
    }
    expect(schema.json()).toEqual({ error: 'invalid_request', message: expect.any(String), fields: [{ field: 'product.colour', message: expect.any(String) }], requestId: expect.any(String) });
    expect(domain.json()).toEqual({ error: 'invalid_input', message: expect.any(String), fields: [{ field: 'customer.phone', message: expect.any(String) }], requestId: expect.any(String) });
  });

  it("names an order's bad customer phone as order.customerPhone, where it is in the body", async () => {
    const res = await signedPost(app, '/api/v1/orders', { eventId: 'evt-shape-3', order: { number: 'SH-O-1', customerPhone: '12', status: 'delivered', placedAt: '2026-01-10T10:00:00Z', itemsTotal: 10, total: 10, items: [{ sku: 'SH-X', name: 'Товар', quantity: 1, price: 10 }] } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'invalid_input', fields: [{ field: 'order.customerPhone' }] });
  });

  it('keeps other details beside the shape (the reason of a 401)', async () => {
    const res = await signedPost(app, '/api/v1/products', { eventId: 'evt-shape-4', product: productInput('SH-2') }, { header: null });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: 'unauthorized', message: expect.any(String), details: { reason: 'missing' }, requestId: expect.any(String) });
  });

  it('documents the shape in OpenAPI', async () => {
    const spec = (await app.inject({ url: '/docs/json' })).json();
    const answer = spec.paths['/api/v1/products'].post.responses['400'].content['application/json'].schema;
    expect(Object.keys(answer.properties).sort()).toEqual(['details', 'error', 'fields', 'message', 'requestId']);
    expect(Object.keys(answer.properties.fields.items.properties).sort()).toEqual(['field', 'message']);
  });
});
