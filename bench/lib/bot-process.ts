/**
 * A bot under test in its own process, so it does not share an event loop with the fake
 * Telegram and the bench (Telegram is remote in production). Started by bots.ts with fork;
 * talks over IPC: { ready, webhookUrl, tunedWebhookUrl?, vkCallbackUrl?, vkDirectCallbackUrl? },
 * then answers { memory }, { handover }, { stages }, { handled }, { cpu } and { loop } requests, and closes on { stop }.
 *
 *   argv: bare|queued|kabinet|web <token> <apiRoot> [extra env as JSON]
 *
 * `queued`: the bare bot behind Kabinet's inbound queue (bots.ts startQueuedBareBot).
 *
 * `web`: Kabinet's web role alone (routes that record; nothing consumes here): with the
 * Kabinet process's REDIS_KEY_PREFIX in the extra env, that process's consumers run the brain,
 * as `npm run web` and `npm run worker` split the work in production.
 *
 * Kabinet runs as `npm run dev` does: the web role (routes that record updates in the inbound
 * queue) and the brain consuming that queue, in one process. Beside it, on other ports, the
 * same brain behind routes that handle before answering (`direct`, the previous design): the
 * Telegram one with a lock that polls every ≤TUNED_POLL_MS, and, with VK configured, VK's.
 */
import { startBareBot, startKabinetWeb, startQueuedBareBot, TUNED_POLL_MS, type RunningBot } from './bots.js';
import { buildApp } from '../../src/server/app.js';
import { createTelegramChannel } from '../../src/channels/telegram/telegram-channel.js';
import { TELEGRAM_WEBHOOK_PATH } from '../../src/channels/telegram/webhook.plugin.js';
import { createCustomerChannels } from '../../src/channels/customer-channels.js';
import { createVkCustomerBot, VK_CALLBACK_PATH } from '../../src/channels/vk/vk-customer-bot.js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { memory } from './setup.js';
import type { StageTimes } from './bots.js';

const [kind, token, apiRoot, extraEnv] = process.argv.slice(2);
if (!token || !apiRoot || (kind !== 'bare' && kind !== 'queued' && kind !== 'kabinet' && kind !== 'web')) throw new Error('usage: bot-process bare|queued|kabinet|web <token> <apiRoot> [env json]');

const closers: Array<() => Promise<void>> = [];
let bot: RunningBot;
let tunedWebhookUrl: string | undefined;
let vkCallbackUrl: string | undefined;
let vkDirectCallbackUrl: string | undefined;
/** Per chat: when its last update finished; gaps to the next one taken from the queue. */
const lastFinished = new Map<string, number>();
let handovers: number[] = [];
/** Per handled item (Kabinet): recorded (Redis clock), handler started and finished, epoch ms. */
let stages: StageTimes[] = [];
const epoch = (t: number) => performance.timeOrigin + t;
let redisKeyPrefix: string | undefined;
/** Items this process's consumers have finished (every chat, replies or not). */
let handled = 0;
if (kind === 'bare') {
  bot = await startBareBot(token, apiRoot);
} else if (kind === 'queued') {
  bot = await startQueuedBareBot(token, apiRoot);
} else if (kind === 'web') {
  const web = await startKabinetWeb('web', token, apiRoot, extraEnv ? (JSON.parse(extraEnv) as Record<string, string>) : {});
  bot = web;
  if (web.phase.config.vk.token) vkCallbackUrl = `${new URL(web.webhookUrl).origin}${VK_CALLBACK_PATH}`;
} else {
  const kabinet = await startKabinetWeb('bot', token, apiRoot, extraEnv ? (JSON.parse(extraEnv) as Record<string, string>) : {});
  bot = kabinet;
  redisKeyPrefix = kabinet.phase.config.redisKeyPrefix;
  // The brain on the recorded updates (the worker role's part of `npm run dev`).
  const consumers = createCustomerChannels(kabinet.phase);
  await consumers.startConsuming({
    onHandled(item, startedAt, finishedAt) {
      handled += 1;
      const last = lastFinished.get(item.chat);
      if (last !== undefined) handovers.push(startedAt - last);
      lastFinished.set(item.chat, finishedAt);
      if (stages.length < 100_000) stages.push({ id: item.id, recordedAt: item.recordedAt, startedAt: epoch(startedAt), finishedAt: epoch(finishedAt) });
    },
  });
  closers.push(() => consumers.stopConsuming());
  // The previous design beside it: handled before the answer, lock polling every ≤10 ms.
  const channel = createTelegramChannel(kabinet.phase, { lock: { maxPollMs: TUNED_POLL_MS } }, { direct: true });
  const plugins: Array<{ plugin: any; options?: Record<string, unknown> }> = [{ plugin: channel.plugin! }];
  if (kabinet.phase.config.vk.token) {
    const vkDirect = createVkCustomerBot(kabinet.phase, { direct: true, path: '/vk/direct' });
    plugins.push(vkDirect.plugin);
    vkCallbackUrl = `${new URL(kabinet.webhookUrl).origin}${VK_CALLBACK_PATH}`;
  }
  const app = await buildApp({ logger: kabinet.phase.logger, health: [], docs: false, plugins });
  await channel.customerBot.bot.init();
  const origin = await app.listen({ host: '127.0.0.1', port: 0 });
  tunedWebhookUrl = `${origin}${TELEGRAM_WEBHOOK_PATH}`;
  if (vkCallbackUrl) vkDirectCallbackUrl = `${origin}/vk/direct`;
  closers.push(() => app.close());
}
// Closed last (closers run in reverse): the brain and the extra routes stop before the clients close.
closers.unshift(() => bot.close());

// This process's own event-loop delay, since the last { loop } request: a stall here delays
// every update the bot has in hand (the webhook's answer, the pickup, the reply).
const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();

process.on('message', async (message: { type: string }) => {
  if (message.type === 'memory') process.send!({ type: 'memory', memory: memory() });
  if (message.type === 'handover') {
    process.send!({ type: 'handover', handovers });
    handovers = [];
    lastFinished.clear();
  }
  if (message.type === 'cpu') {
    const used = process.cpuUsage();
    process.send!({ type: 'cpu', micros: used.user + used.system });
  }
  if (message.type === 'loop') {
    process.send!({ type: 'loop', p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 });
    loop.reset();
  }
  if (message.type === 'handled') process.send!({ type: 'handled', count: handled });
  if (message.type === 'stages') {
    process.send!({ type: 'stages', stages });
    stages = [];
  }
  if (message.type === 'stop') {
    for (const close of closers.reverse()) await close();
    process.send!({ type: 'stopped' }, () => process.exit(0));
  }
});
// The bench died: do not outlive it.
process.on('disconnect', () => process.exit(0));
process.send!({ type: 'ready', webhookUrl: bot.webhookUrl, tunedWebhookUrl, vkCallbackUrl, vkDirectCallbackUrl, redisKeyPrefix });
