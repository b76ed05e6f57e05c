/**
 * A running sandbox for tests: Kabinet's web and worker roles in this process against the
 * sandbox's own fake Telegram and VK, on a seeded database of the test's own, on a free port:
 * what `npm start` runs, minus the terminal.
 */
import { seed } from '../../prisma/seed.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { createWeb, type Web } from '../../src/web.js';
import { createWorkerRole, type WorkerRole } from '../../src/worker.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { freePort } from '../support/net.js';

export interface RunningSandbox {
  base: string;
  sandbox: Sandbox;
  ctx: TestContext;
  web: Web;
  close(): Promise<void>;
}

export async function runSandbox(): Promise<RunningSandbox> {
  const sandbox = await startSandbox();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const ctx = await createTestContext({ env: { ...sandbox.env(base), PORT: String(port) } });
  await seed(ctx.prisma, ctx.config);
  const web = await createWeb(ctx, { sandbox });
  await web.start();
  await sandbox.connect(base);
  const worker: WorkerRole = await createWorkerRole(ctx, { sandbox });
  await worker.start();
  return {
    base,
    sandbox,
    ctx,
    web,
    async close() {
      await web.stop();
      await worker.stop();
      await ctx.close();
      await sandbox.close();
    },
  };
}
