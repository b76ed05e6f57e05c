import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { metricsPlugin } from '../../src/server/metrics.js';
import { createWeb, type Web } from '../../src/web.js';
import { createTestContext, type TestContext } from '../support/context.js';

let ctx: TestContext;
let web: Web;
beforeAll(async () => {
  ctx = await createTestContext({ env: { METRICS_TOKEN: 'scrape-token-0123456789' } });
  web = await createWeb(ctx);
});
afterAll(async () => {
  await web.app.close();
  await ctx.close();
});

describe('/metrics', () => {
  it('needs the token, then reports requests by route pattern and queue depths', async () => {
    expect((await web.app.inject({ url: '/metrics' })).statusCode).toBe(401);
    await ctx.queues.queue('outbox').add('x', {}, { delay: 60_000 });
    await web.app.inject({ url: '/health' });
    await web.app.inject({ url: '/no/such/route/79991234567' });
    const res = await web.app.inject({ url: '/metrics', headers: { authorization: 'Bearer scrape-token-0123456789' } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/kabinet_http_requests_total\{method="GET",route="\/health",status="200"\} 1/);
    expect(res.body).toMatch(/kabinet_queue_jobs\{queue="outbox",state="delayed"\} 1/);
    // Unmatched URLs are not label values (they could carry ids or phones).
    expect(res.body).not.toContain('79991234567');
  });
});

describe('/metrics without a token', () => {
  it('is closed (403) where the deployment says so (production), open otherwise', async () => {
    for (const [openWithoutToken, status] of [[false, 403], [true, 200]] as const) {
      const app = await buildApp({ logger: ctx.logger, health: [], docs: false, plugins: [{ plugin: metricsPlugin, options: { openWithoutToken } }] });
      const res = await app.inject({ url: '/metrics' });
      expect(res.statusCode).toBe(status);
      if (status === 403) expect(res.json()).toMatchObject({ error: 'forbidden' });
      await app.close();
    }
  });
});
