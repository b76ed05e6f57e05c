import { request } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/errors.js';
import { createLogger } from '../../src/infra/logger.js';
import { buildApp, closeGracefully } from '../../src/server/app.js';

const logger = createLogger({ level: 'silent' });

describe('app', () => {
  it('maps domain errors to statuses, hides 5xx details and names unknown routes', async () => {
    const app = await buildApp({
      logger, health: [], docs: false,
      plugins: [{ plugin: async (a: FastifyInstance) => {
        a.get('/missing', async () => { throw new DomainError('not_found', 'No such order'); });
        a.get('/boom', async () => { throw new Error('secret database detail'); });
      } }],
    });
    const missing = await app.inject({ url: '/missing' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: 'not_found', message: 'No such order', requestId: missing.headers['request-id'] });
    const boom = await app.inject({ url: '/boom' });
    expect(boom.statusCode).toBe(500);
    expect(boom.body).not.toContain('secret');
    expect((await app.inject({ url: '/nope' })).json()).toMatchObject({ error: 'not_found' });
    await app.close();
  });

  it('answers a domain error with details in the documented shape: the field as a dot path in fields, the rest in details', async () => {
    const app = await buildApp({
      logger, health: [], docs: false,
      plugins: [{ plugin: async (a: FastifyInstance) => {
        a.get('/long', async () => { throw new DomainError('invalid_input', 'street is too long', { field: 'address.street', max: 200 }); });
        a.get('/slow-down', async () => { throw new DomainError('rate_limited', 'Too many codes', { reason: 'phone_hourly', retryAfterSeconds: 30 }); });
      } }],
    });
    expect((await app.inject({ url: '/long' })).json()).toEqual({ error: 'invalid_input', message: 'street is too long', fields: [{ field: 'address.street', message: 'street is too long' }], details: { max: 200 }, requestId: expect.any(String) });
    const slow = await app.inject({ url: '/slow-down' });
    expect(slow.statusCode).toBe(429);
    expect(slow.json()).toEqual({ error: 'rate_limited', message: 'Too many codes', details: { reason: 'phone_hourly', retryAfterSeconds: 30 }, requestId: expect.any(String) });
    await app.close();
  });

  it('puts a request id on every answer, in the error body and the log line, and answers framework errors in the documented shape', async () => {
    const lines: string[] = [];
    const app = await buildApp({
      logger: createLogger({ level: 'error', destination: { write: (l: string) => { lines.push(l); } } }), health: [], docs: false,
      plugins: [{ plugin: async (a: FastifyInstance) => {
        a.get('/ok', async () => ({ ok: true }));
        a.get('/boom', async () => { throw new Error('secret database detail'); });
        a.get('/item/:id', async () => ({ ok: true }));
        a.get('/list', { schema: { querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1 } }, additionalProperties: false } } }, async (r) => ({ limit: (r.query as { limit?: number }).limit }));
        a.post('/body', { schema: { body: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] } } }, async (r) => r.body);
      } }],
    });
    const ok = await app.inject({ url: '/ok' });
    const ids = new Set<string>();
    for (const res of [ok, await app.inject({ url: '/nope' }), await app.inject({ url: '/item/%E0%A4%A' }), await app.inject({ url: `/item/${'x'.repeat(500)}` })]) {
      expect(res.headers['request-id']).toMatch(/^[0-9a-f-]{36}$/);
      ids.add(res.headers['request-id'] as string);
      if (res.statusCode >= 400) {
        expect(Object.keys(res.json()).sort()).toEqual(['error', 'message', 'requestId']);
        expect(res.json().requestId).toBe(res.headers['request-id']);
      }
    }
    expect(ids.size).toBe(4);
    const bad = await app.inject({ url: '/item/%E0%A4%A' });
    expect([bad.statusCode, bad.json().error]).toEqual([400, 'bad_request']);
    const long = await app.inject({ url: `/item/${'x'.repeat(500)}` });
    expect([long.statusCode, long.json().error]).toEqual([414, 'uri_too_long']);
    // The log line of a 5xx carries the id the caller was given.
    const boom = await app.inject({ url: '/boom' });
    expect(boom.statusCode).toBe(500);
    expect(boom.json().requestId).toBe(boom.headers['request-id']);
    expect(lines.some((l) => l.includes(boom.headers['request-id'] as string))).toBe(true);
    // Query strings coerce; bodies do not.
    expect((await app.inject({ url: '/list?limit=2' })).json()).toEqual({ limit: 2 });
    expect((await app.inject({ url: '/list?limit=two' })).statusCode).toBe(400);
    const str = await app.inject({ method: 'POST', url: '/body', payload: { n: '5' } });
    expect(str.statusCode).toBe(400);
    expect(str.json().fields).toEqual([{ field: 'n', message: expect.any(String) }]);
    const notObject = await app.inject({ method: 'POST', url: '/body', payload: '[1]', headers: { 'content-type': 'application/json' } });
    expect(notObject.json().fields[0].field).toBe('body');
    await app.close();
  });

  it('closes gracefully: a running request finishes, then the server closes', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let entered!: () => void;
    const running = new Promise<void>((r) => { entered = r; });
    const app = await buildApp({
      logger, health: [], docs: false,
      plugins: [{ plugin: async (a: FastifyInstance) => { a.get('/slow', async () => { entered(); await gate; return { done: true }; }); } }],
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as { port: number }).port;
    const body = new Promise<string>((resolve, reject) => {
      const req = request({ port, host: '127.0.0.1', path: '/slow', agent: false }, (res) => {
        let data = '';
        res.on('data', (c) => { data += c; });
        res.on('end', () => resolve(data));
      });
      req.on('error', reject);
      req.end();
    });
    // The request is being handled (not merely sent: on a busy machine it may not have arrived yet).
    await running;
    const closed = closeGracefully(app, 5_000);
    release();
    expect(JSON.parse(await body)).toEqual({ done: true });
    await closed;
    expect(app.server.listening).toBe(false);
  });
});
