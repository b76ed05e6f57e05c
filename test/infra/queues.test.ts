import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';

let ctx: TestContext;
beforeAll(async () => { ctx = await createTestContext(); });
afterAll(async () => { await ctx.close(); });

describe('queue factory', () => {
  it('runs jobs under the configured prefix and ignores a duplicate job id', async () => {
    const seen: string[] = [];
    const done = new Promise<void>((resolve) => {
      ctx.queues.worker<{ n: number }>('probe', async (job) => {
        seen.push(`${job.id}:${job.data.n}`);
        if (seen.length === 2) resolve();
      });
    });
    const queue = ctx.queues.queue<{ n: number }>('probe');
    await queue.add('p', { n: 1 }, { jobId: 'a' });
    await queue.add('p', { n: 99 }, { jobId: 'a' });
    await queue.add('p', { n: 2 }, { jobId: 'b' });
    await done;
    expect(seen.sort()).toEqual(['a:1', 'b:2']);
    const keys = await ctx.redis.keys(`{kt-${ctx.id}}:probe:*`);
    expect(keys.length).toBeGreaterThan(0);
  });

  it('lets a running job finish when workers close', async () => {
    let finished = false;
    let started!: () => void;
    const startedP = new Promise<void>((r) => { started = r; });
    ctx.queues.worker('slow', async () => {
      started();
      await new Promise((r) => setTimeout(r, 300));
      finished = true;
    });
    await ctx.queues.queue('slow').add('s', {});
    await startedP;
    await ctx.queues.close();
    expect(finished).toBe(true);
  });
});

describe('database per file', () => {
  it('is migrated and empty', async () => {
    expect(await ctx.prisma.customer.count()).toBe(0);
    const c = await ctx.prisma.customer.create({ data: { phone: '+79990000001' } });
    expect(c.language).toBe('ru');
  });
});
