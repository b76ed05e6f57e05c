/**
 * The bots compared on the same fake Telegram: a bare grammY bot (the baseline: webhook on
 * Fastify, a static menu, no sessions, no lock, no database), the same bare bot behind Kabinet's
 * inbound queue (the queue's price alone), and Kabinet's web role as main.ts builds it
 * (createWeb: the customer bot behind its webhook route).
 */
import { fork } from 'node:child_process';
import Fastify from 'fastify';
import { Api, Bot, InlineKeyboard, webhookCallback } from 'grammy';
import { TELEGRAM_WEBHOOK_PATH } from '../../src/channels/telegram/webhook.plugin.js';
import { createWeb, type Web } from '../../src/web.js';
import { createPhase, freePort, phaseEnv, REDIS_URL, type Phase } from './setup.js';
import { createInboundQueue } from '../../src/bot/ordering/inbound-queue.js';
import { telegramChatKey } from '../../src/channels/telegram/inbound.js';
import { createRedis } from '../../src/infra/redis.js';
import { createLogger } from '../../src/infra/logger.js';
import { secretMatches } from '../../src/lib/secure-compare.js';
import type { Update } from 'grammy/types';
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

/** The bare bot's handlers: the same buttons and the same calls as Kabinet's menu and orders list, with fixed texts. */
function bareBot(token: string, apiRoot: string): Bot {
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
  return bot;
}

export async function startBareBot(token: string, apiRoot: string): Promise<RunningBot> {
  const bot = bareBot(token, apiRoot);
  const app = Fastify({ logger: false });
  app.post(TELEGRAM_WEBHOOK_PATH, webhookCallback(bot, 'fastify', { secretToken: WEBHOOK_SECRET }));
  await bot.init();
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const webhookUrl = `${address}${TELEGRAM_WEBHOOK_PATH}`;
  await bot.api.setWebhook(webhookUrl, { secret_token: WEBHOOK_SECRET });
  return { token, webhookUrl, close: () => app.close() };
}

/**
 * The bare bot behind Kabinet's durable inbound queue (the open loop's third subject,
 * BENCH_OPEN_QUEUED=1): the bare bot's handlers; a Fastify route that checks the secret, records
 * the update with the queue Kabinet's webhook uses (its chat key, deduplicated by update_id, in
 * Redis) and answers; and that queue's consumer in the same process running bot.handleUpdate, as
 * `npm run dev` runs Kabinet. Between it and the bare bot: the price of answering only once the
 * update is durably recorded and of the per-chat order (issue 13's own requirements); between it
 * and Kabinet: Kabinet's brain.
 */
export async function startQueuedBareBot(token: string, apiRoot: string): Promise<RunningBot> {
  const bot = bareBot(token, apiRoot);
  const keys = phaseEnv('queued');
  const redis = createRedis({ url: REDIS_URL, role: 'client', name: 'bench-queued' });
  const queue = createInboundQueue({ redis, prefix: `${keys.prefix}:in:`, logger: createLogger({ level: 'error' }) });
  const app = Fastify({ logger: false });
  app.post<{ Body: Update }>(TELEGRAM_WEBHOOK_PATH, async (request, reply) => {
    if (!secretMatches(request.headers['x-telegram-bot-api-secret-token'], WEBHOOK_SECRET)) return reply.status(401).send();
    const update = request.body;
    await queue.enqueue(telegramChatKey(update), String(update.update_id), JSON.stringify(update));
    return reply.send({ ok: true });
  });
  await bot.init();
  queue.consume(async (item) => bot.handleUpdate(JSON.parse(item.payload) as Update));
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const webhookUrl = `${address}${TELEGRAM_WEBHOOK_PATH}`;
  await bot.api.setWebhook(webhookUrl, { secret_token: WEBHOOK_SECRET });
  return {
    token,
    webhookUrl,
    async close() {
      await app.close();
      await queue.stop();
      await keys.deleteKeys();
      redis.disconnect();
    },
  };
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
  kind: 'bare' | 'queued' | 'kabinet' | 'web';
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
  /** Kabinet with consumers: the inbound items they have finished so far. */
  handled(): Promise<number>;
  /** The process's event-loop delay since the last call, ms (p99 and max; 5 ms resolution). */
  loop(): Promise<{ p99: number; max: number }>;
  stop(): Promise<void>;
}

/** BENCH_KABINET_ENV: a JSON object of string settings added to the environment of Kabinet's bot processes. */
function kabinetEnv(): Record<string, string> {
  const raw = process.env.BENCH_KABINET_ENV;
  if (!raw) return {};
  const parsed: unknown = JSON.parse(raw);
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || !Object.values(parsed).every((v) => typeof v === 'string')) {
    throw new Error('BENCH_KABINET_ENV must be a JSON object of strings, e.g. {"INBOUND_CONCURRENCY":"64"}');
  }
  return parsed as Record<string, string>;
}

const nodeFlags = (raw: string | undefined) => (raw ?? '').split(/\s+/).filter(Boolean);

/** Starts bot-process.ts (bare grammY or Kabinet's web role) in a child process. */
export function startBotProcess(kind: 'bare' | 'queued' | 'kabinet' | 'web', token: string, apiRoot: string, extraEnv: Record<string, string> = {}): Promise<BotProcess> {
  // BENCH_KABINET_ENV='{"INBOUND_CONCURRENCY":"64"}': Kabinet's settings for an experiment (its processes only).
  const kabinet = kind === 'kabinet' || kind === 'web';
  const env = kabinet ? { ...extraEnv, ...kabinetEnv() } : extraEnv;
  const child = fork(new URL('./bot-process.ts', import.meta.url).pathname, [kind, token, apiRoot, JSON.stringify(env)], {
    // BENCH_CPU_PROF=<dir> writes a .cpuprofile per bot process (open in Chrome DevTools);
    // BENCH_BOT_NODE_FLAGS adds V8/Node flags to every bot process (e.g. --trace-gc),
    // BENCH_KABINET_NODE_FLAGS to Kabinet's only (an experiment with its runtime settings).
    execArgv: [
      '--import',
      'tsx',
      ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
      ...nodeFlags(process.env.BENCH_BOT_NODE_FLAGS),
      ...(kabinet ? nodeFlags(process.env.BENCH_KABINET_NODE_FLAGS) : []),
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
    async handled() {
      const answer = once<{ count: number }>('handled');
      child.send({ type: 'handled' });
      return (await answer).count;
    },
    async cpu() {
      const answer = once<{ micros: number }>('cpu');
      child.send({ type: 'cpu' });
      return (await answer).micros;
    },
    async loop() {
      const answer = once<{ p99: number; max: number }>('loop');
      child.send({ type: 'loop' });
      const { p99, max } = await answer;
      return { p99, max };
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
