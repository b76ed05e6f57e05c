/**
 * The two bots compared on the same fake Telegram: a bare grammY bot (the baseline: webhook
 * on Fastify, a static menu, no sessions, no lock, no database) and Kabinet's web role as
 * main.ts builds it (createWeb: the customer bot behind its webhook route).
 */
import { fork } from 'node:child_process';
import Fastify from 'fastify';
import { Api, Bot, InlineKeyboard, webhookCallback } from 'grammy';
import { TELEGRAM_WEBHOOK_PATH } from '../../src/channels/telegram/webhook.plugin.js';
import { createWeb, type Web } from '../../src/web.js';
import { createPhase, freePort, type Phase } from './setup.js';
import { nextMessage } from './ipc.js';

export const WEBHOOK_SECRET = 'bench-webhook-secret_1';
/** maxPollMs of the lock behind Kabinet's second, tuned webhook route (benchmark 2). */
export const TUNED_POLL_MS = 10;

export interface RunningBot {
  token: string;
  /** Where the webhook POSTs go. */
  webhookUrl: string;
  close(): Promise<void>;
}

/** Same buttons and the same calls as Kabinet's menu and orders list, with fixed texts. */
export async function startBareBot(token: string, apiRoot: string): Promise<RunningBot> {
  const bot = new Bot(token, { client: { apiRoot } });
  const menu = new InlineKeyboard().text('Orders', 'o:list:0').text('Wishlist', 'w:list').row().text('Loyalty', 'y:show').text('Profile', 'p:show').row().text('Help', 'h:show');
  const back = new InlineKeyboard().text('Back', 'm:home');
  const extra = { parse_mode: 'HTML' as const, link_preview_options: { is_disabled: true } };
  bot.command('start', (ctx) => ctx.reply('<b>Main menu</b>', { ...extra, reply_markup: menu }));
  bot.callbackQuery('o:list:0', async (ctx) => {
    await ctx.editMessageText('<b>Your orders</b>\nNo. 1 — paid', { ...extra, reply_markup: back });
    await ctx.answerCallbackQuery();
  });
  bot.callbackQuery('m:home', async (ctx) => {
    await ctx.editMessageText('<b>Main menu</b>', { ...extra, reply_markup: menu });
    await ctx.answerCallbackQuery();
  });
  const app = Fastify({ logger: false });
  app.post(TELEGRAM_WEBHOOK_PATH, webhookCallback(bot, 'fastify', { secretToken: WEBHOOK_SECRET }));
  await bot.init();
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const webhookUrl = `${address}${TELEGRAM_WEBHOOK_PATH}`;
  await bot.api.setWebhook(webhookUrl, { secret_token: WEBHOOK_SECRET });
  return { token, webhookUrl, close: () => app.close() };
}

export interface KabinetWeb extends RunningBot {
  phase: Phase;
  web: Web;
}

/** Kabinet's web role with the Telegram webhook, its own Redis prefixes, on a loopback port. */
export async function startKabinetWeb(name: string, token: string, apiRoot: string, extraEnv: Record<string, string> = {}): Promise<KabinetWeb> {
  const port = await freePort();
  const phase = await createPhase(name, {
    HOST: '127.0.0.1',
    PORT: String(port),
    TELEGRAM_BOT_TOKEN: token,
    TELEGRAM_API_ROOT: apiRoot,
    TELEGRAM_WEBHOOK_URL: `http://127.0.0.1:${port}`,
    TELEGRAM_WEBHOOK_SECRET: WEBHOOK_SECRET,
    ...extraEnv,
  });
  const web = await createWeb(phase);
  await web.start();
  return {
    token,
    phase,
    web,
    webhookUrl: `http://127.0.0.1:${port}${TELEGRAM_WEBHOOK_PATH}`,
    async close() {
      await web.stop();
      await phase.close();
    },
  };
}

/** Stops the fake from delivering this bot's updates, so the bench can POST them itself. */
export const detachWebhook = (token: string, apiRoot: string) => new Api(token, { apiRoot }).deleteWebhook();

type Memory = { rss: number; heapUsed: number; external: number };

/** One update through Kabinet's inbound queue, epoch ms (recordedAt from Redis's clock). */
export interface StageTimes {
  /** The queue item id: the update_id. */
  id: string;
  recordedAt: number;
  startedAt: number;
  finishedAt: number;
}

export interface BotProcess {
  pid: number;
  kind: 'bare' | 'kabinet' | 'web';
  webhookUrl: string;
  /** Kabinet only: the route whose chat lock polls every ≤TUNED_POLL_MS. */
  tunedWebhookUrl: string | undefined;
  /** Kabinet with VK configured: the production callback route (inbound queue) and the direct one. */
  vkCallbackUrl: string | undefined;
  vkDirectCallbackUrl: string | undefined;
  /** Kabinet: its Redis key prefix (a `web` process given it records into this process's queues). */
  redisKeyPrefix: string | undefined;
  memory(): Promise<Memory>;
  /** Kabinet only: ms between one update of a chat finishing and the next starting, since the last call. */
  handovers(): Promise<number[]>;
  /** Kabinet only: per handled update since the last call, when it was recorded, started and finished. */
  stages(): Promise<StageTimes[]>;
  /** CPU time (user + system, µs) the process used so far. */
  cpu(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts bot-process.ts (bare grammY or Kabinet's web role) in a child process. */
export function startBotProcess(kind: 'bare' | 'kabinet' | 'web', token: string, apiRoot: string, extraEnv: Record<string, string> = {}): Promise<BotProcess> {
  const child = fork(new URL('./bot-process.ts', import.meta.url).pathname, [kind, token, apiRoot, JSON.stringify(extraEnv)], {
    // BENCH_CPU_PROF=<dir> writes a .cpuprofile per bot process (open in Chrome DevTools);
    // BENCH_BOT_NODE_FLAGS adds V8/Node flags to every bot process (e.g. --trace-gc).
    execArgv: [
      '--import',
      'tsx',
      ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
      ...(process.env.BENCH_BOT_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const once = <T>(type: string) => nextMessage<T>(child, type, `${kind} bot process`);
  return once<{ webhookUrl: string; tunedWebhookUrl?: string; vkCallbackUrl?: string; vkDirectCallbackUrl?: string; redisKeyPrefix?: string }>('ready').then((ready) => ({
    pid: child.pid!,
    kind,
    webhookUrl: ready.webhookUrl,
    tunedWebhookUrl: ready.tunedWebhookUrl,
    vkCallbackUrl: ready.vkCallbackUrl,
    vkDirectCallbackUrl: ready.vkDirectCallbackUrl,
    redisKeyPrefix: ready.redisKeyPrefix,
    async handovers() {
      const answer = once<{ handovers: number[] }>('handover');
      child.send({ type: 'handover' });
      return (await answer).handovers;
    },
    async stages() {
      const answer = once<{ stages: StageTimes[] }>('stages');
      child.send({ type: 'stages' });
      return (await answer).stages;
    },
    async cpu() {
      const answer = once<{ micros: number }>('cpu');
      child.send({ type: 'cpu' });
      return (await answer).micros;
    },
    async memory() {
      const answer = once<{ memory: Memory }>('memory');
      child.send({ type: 'memory' });
      return (await answer).memory;
    },
    async stop() {
      const stopped = once('stopped').catch(() => undefined);
      child.send({ type: 'stop' });
      await stopped;
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
    },
  }));
}
