/**
 * The sandbox's broadcast view: its browser module is served and exports mount(container,
 * api); its routes compose and start a broadcast for consenting demo customers, list it
 * with live figures, pause and cancel it, and refuse bad input with a clear 4xx.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBroadcastsFromInfra } from '../../src/broadcasts/index.js';
import { sandboxBroadcastsPlugin } from '../../src/sandbox/broadcasts.plugin.js';
import { buildApp, type App } from '../../src/server/app.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { createCustomer } from '../support/factories.js';

let ctx: TestContext;
let app: App;

beforeAll(async () => {
  ctx = await createTestContext();
  app = await buildApp({ logger: ctx.logger, health: [], docs: false, plugins: [{ plugin: sandboxBroadcastsPlugin, options: { broadcasts: createBroadcastsFromInfra(ctx) } }] });
  for (const [i, consent] of [true, true, false].entries()) {
    const c = await createCustomer(ctx.prisma);
    await ctx.prisma.customer.update({ where: { id: c.id }, data: { marketingConsent: consent } });
    await ctx.prisma.channelIdentity.create({ data: { platform: i === 0 ? 'vk' : 'telegram', externalId: `sb-${i}`, chatId: String(900 + i), customerId: c.id, linkedAt: new Date() } });
  }
});
afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

describe('the sandbox broadcast view', () => {
  it('serves the browser module', async () => {
    const res = await app.inject({ method: 'GET', url: '/sandbox/api/broadcasts/module.js' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('javascript');
    expect(res.body).toContain('export function mount(container, api)');
  });

  it('counts, starts, lists, pauses and cancels for the consenting demo customers', async () => {
    const count = await app.inject({ method: 'POST', url: '/sandbox/api/broadcasts/count', payload: { segment: {} } });
    expect(count.json()).toMatchObject({ customers: 2, byPlatform: { telegram: 1, vk: 1 } });
    const started = await app.inject({ method: 'POST', url: '/sandbox/api/broadcasts', payload: { title: 'Demo', text: { ru: 'Привет, {firstName}!' }, segment: {} } });
    expect(started.statusCode, started.body).toBe(200);
    expect(started.json()).toMatchObject({ status: 'sending', total: 2, pending: 2 });
    const id = started.json().id;
    expect((await app.inject({ method: 'GET', url: '/sandbox/api/broadcasts' })).json().items[0]).toMatchObject({ id, title: 'Demo' });
    expect((await app.inject({ method: 'POST', url: `/sandbox/api/broadcasts/${id}/pause` })).json().status).toBe('paused');
    expect((await app.inject({ method: 'POST', url: `/sandbox/api/broadcasts/${id}/cancel` })).json()).toMatchObject({ status: 'cancelled', skipped: 2, pending: 0 });
  });

  it.each([
    ['no text', { title: 'x', segment: {} }],
    ['an unknown placeholder', { title: 'x', text: { ru: '{who}' }, segment: {} }],
    ['a bad segment', { title: 'x', text: { ru: 'x' }, segment: { platforms: ['icq'] } }],
  ])('refuses %s with 400', async (_name, payload) => {
    const res = await app.inject({ method: 'POST', url: '/sandbox/api/broadcasts', payload });
    expect(res.statusCode).toBe(400);
  });
});
