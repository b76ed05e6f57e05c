/**
 * A bot under test in its own process, so it does not share an event loop with the fake
 * Telegram and the bench (Telegram is remote in production). Started by bots.ts with fork;
 * talks over IPC: { ready, webhookUrl, tunedWebhookUrl? }, then answers { memory } requests,
 * and closes on { stop }.
 *
 *   argv: bare|kabinet <token> <apiRoot>
 */
import { startBareBot, startKabinetWeb, TUNED_POLL_MS, type RunningBot } from './bots.js';
import { buildApp } from '../../src/server/app.js';
import { createTelegramChannel } from '../../src/channels/telegram/telegram-channel.js';
import { TELEGRAM_WEBHOOK_PATH } from '../../src/channels/telegram/webhook.plugin.js';
import { memory } from './setup.js';

const [kind, token, apiRoot] = process.argv.slice(2);
if (!token || !apiRoot || (kind !== 'bare' && kind !== 'kabinet')) throw new Error('usage: bot-process bare|kabinet <token> <apiRoot>');

const closers: Array<() => Promise<void>> = [];
let bot: RunningBot;
let tunedWebhookUrl: string | undefined;
if (kind === 'bare') {
  bot = await startBareBot(token, apiRoot);
} else {
  const kabinet = await startKabinetWeb('bot', token, apiRoot);
  bot = kabinet;
  // The same brain and Redis keys behind a second route whose lock waiters poll more often.
  const channel = createTelegramChannel(kabinet.phase, { lock: { maxPollMs: TUNED_POLL_MS } }, { direct: true });
  const app = await buildApp({ logger: kabinet.phase.logger, health: [], docs: false, plugins: [{ plugin: channel.plugin! }] });
  await channel.customerBot.bot.init();
  tunedWebhookUrl = `${await app.listen({ host: '127.0.0.1', port: 0 })}${TELEGRAM_WEBHOOK_PATH}`;
  closers.push(() => app.close());
}
closers.push(() => bot.close());

process.on('message', async (message: { type: string }) => {
  if (message.type === 'memory') process.send!({ type: 'memory', memory: memory() });
  if (message.type === 'stop') {
    for (const close of closers.reverse()) await close();
    process.send!({ type: 'stopped' }, () => process.exit(0));
  }
});
// The bench died: do not outlive it.
process.on('disconnect', () => process.exit(0));
process.send!({ type: 'ready', webhookUrl: bot.webhookUrl, tunedWebhookUrl });
