import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWeb, type Web } from '../../src/web.js';
import { createTestContext, type TestContext } from '../support/context.js';

let ctx: TestContext;
let web: Web;
beforeAll(async () => {
  ctx = await createTestContext({ env: { METRICS_TOKEN: 'scrape-token' } });
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
    const res = await web.app.inject({ url: '/metrics', headers: { authorization: 'Bearer scrape-token' } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/kabinet_http_requests_total\{method="GET",route="\/health",status="200"\} 1/);
    expect(res.body).toMatch(/kabinet_queue_jobs\{queue="outbox",state="delayed"\} 1/);
    // Unmatched URLs are not label values (they could carry ids or phones).
    expect(res.body).not.toContain('79991234567');
  });
});
