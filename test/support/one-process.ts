/**
 * Kabinet as `npm run dev` (src/main.ts all) composes it, against a fake Telegram: the worker role
 * first, then the web role (which sets the webhook), in this process, with the bot's webhook on a
 * loopback port.
 */
import type { FakeTelegram } from '../../src/fakes/telegram/index.js';
import { createWeb, type Web } from '../../src/web.js';
import { createWorkerRole, type WorkerRole } from '../../src/worker.js';
import { createTestContext, type TestContext } from './context.js';
import { freePort } from './net.js';

export interface OneProcess {
  ctx: TestContext;
  worker: WorkerRole;
  web: Web;
  close(): Promise<void>;
}

/** `fake` is listening; the bot `token` is created on it here. Settings not given keep their defaults. */
export async function startOneProcess(fake: FakeTelegram, apiRoot: string, bot: { token: string; username: string; secret: string }): Promise<OneProcess> {
  fake.createBot({ token: bot.token, username: bot.username, firstName: 'Kabinet' });
  const port = await freePort();
  const ctx = await createTestContext({
    env: {
      PORT: String(port), HOST: '127.0.0.1', TELEGRAM_BOT_TOKEN: bot.token, TELEGRAM_API_ROOT: apiRoot,
      TELEGRAM_WEBHOOK_URL: `http://127.0.0.1:${port}`, TELEGRAM_WEBHOOK_SECRET: bot.secret, LOG_LEVEL: process.env.T_LOG ?? 'silent',
    },
  });
  const worker = await createWorkerRole(ctx);
  await worker.start();
  const web = await createWeb(ctx);
  await web.start();
  return {
    ctx,
    worker,
    web,
    async close() {
      await web.stop();
      await worker.stop();
      await ctx.close();
    },
  };
}
