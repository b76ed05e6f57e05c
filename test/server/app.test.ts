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
    expect(missing.json()).toEqual({ error: 'not_found', message: 'No such order' });
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
    expect((await app.inject({ url: '/long' })).json()).toEqual({ error: 'invalid_input', message: 'street is too long', fields: [{ field: 'address.street', message: 'street is too long' }], details: { max: 200 } });
    const slow = await app.inject({ url: '/slow-down' });
    expect(slow.statusCode).toBe(429);
    expect(slow.json()).toEqual({ error: 'rate_limited', message: 'Too many codes', details: { reason: 'phone_hourly', retryAfterSeconds: 30 } });
    await app.close();
  });

  it('closes gracefully: a running request finishes, then the server closes', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const app = await buildApp({
      logger, health: [], docs: false,
      plugins: [{ plugin: async (a: FastifyInstance) => { a.get('/slow', async () => { await gate; return { done: true }; }); } }],
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
    await new Promise((r) => setTimeout(r, 50));
    const closed = closeGracefully(app, 5_000);
    release();
    expect(JSON.parse(await body)).toEqual({ done: true });
    await closed;
    expect(app.server.listening).toBe(false);
  });
});
