/** The admin API's bearer check, without a database: the outbox behind it is a stub. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApiPlugin } from '../../../src/api/admin/plugin.js';
import { createLogger } from '../../../src/infra/logger.js';
import { buildApp, type App } from '../../../src/server/app.js';

const TOKEN = 'admin-token-0123456789abcdef';
const outbox = { list: async () => [], retryDead: async () => null };
let app: App;
let unconfigured: App;

beforeAll(async () => {
  const logger = createLogger({ level: 'silent' });
  app = await buildApp({ logger, health: [], docs: false, plugins: [{ plugin: adminApiPlugin, options: { prefix: '/api/admin', token: TOKEN, outbox } }] });
  unconfigured = await buildApp({ logger, health: [], docs: false, plugins: [{ plugin: adminApiPlugin, options: { prefix: '/api/admin', token: undefined, outbox } }] });
});
afterAll(async () => {
  await app?.close();
  await unconfigured?.close();
});

describe('admin API bearer token', () => {
  it.each([
    ['no header', undefined],
    ['another scheme', `Basic ${TOKEN}`],
    ['a wrong token', 'Bearer wrong-token'],
    ['a token with a suffix', `Bearer ${TOKEN}x`],
    ['an empty bearer', 'Bearer '],
  ])('answers 401 to %s', async (_name, authorization) => {
    const res = await app.inject({ method: 'GET', url: '/api/admin/outbox', headers: authorization ? { authorization } : {} });
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe('unauthorized');
  });

  it('lets the right token in, case-insensitive scheme', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/admin/outbox', headers: { authorization: `bearer ${TOKEN}` } })).statusCode).toBe(200);
  });

  it('answers 503 when no token is configured', async () => {
    expect((await unconfigured.inject({ method: 'GET', url: '/api/admin/outbox', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(503);
  });

  it('coerces query numbers (?limit=2) and documents its error answers', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await app.inject({ method: 'GET', url: '/api/admin/outbox?limit=2', headers: auth })).statusCode).toBe(200);
    const tooMany = await app.inject({ method: 'GET', url: '/api/admin/outbox?limit=501', headers: auth });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().fields).toEqual([{ field: 'limit', message: expect.any(String) }]);
    expect((await app.inject({ method: 'GET', url: '/api/admin/outbox?limit=two', headers: auth })).statusCode).toBe(400);
    const withDocs = await buildApp({ logger: createLogger({ level: 'silent' }), health: [], plugins: [{ plugin: adminApiPlugin, options: { prefix: '/api/admin', token: TOKEN, outbox } }] });
    const spec = (await withDocs.inject({ url: '/docs/json' })).json();
    expect(Object.keys(spec.paths['/api/admin/outbox'].get.responses).sort()).toEqual(['200', '400', '401', '500', '503']);
    await withDocs.close();
  });

  it('answers 400 naming a bad query field', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/admin/outbox?status=lost', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.statusCode).toBe(400);
    expect(res.json().fields.map((f: { field: string }) => f.field)).toContain('status');
  });
});
