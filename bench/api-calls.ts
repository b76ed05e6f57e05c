/**
 * npm run bench:api-calls — the CPU one Bot API call costs the bot's process: sendMessage with
 * the main menu's keyboard, 8 in flight, against a loopback server in its own process (its CPU
 * is not counted) that answers as the Bot API does (the sent message, keyboard included).
 * Compared in the same run, alternated in rounds (each figure the median round's):
 *   - grammY as it comes (its client over node-fetch): the baseline, what a bare grammY bot pays;
 *   - grammY's client over Kabinet's fetch (keep-alive-fetch.ts, undici's request) with the
 *     retry policy: the customer bot's calls with a signal, uploads, conversations' own Api;
 *   - Kabinet's plain JSON calls (telegram/json-calls.ts) over the same fetch: every reply,
 *     edit and callback answer of the customer bot and every send of the queues.
 * BENCH_API_CALLS (default 20000 per round), BENCH_API_ROUNDS (default 5).
 */
import { fork } from 'node:child_process';
import { Api, InlineKeyboard } from 'grammy';
import { createRetryingFetch } from '../src/channels/api-retry.js';
import { createKeepAliveFetch } from '../src/channels/keep-alive-fetch.js';
import { useJsonCalls } from '../src/channels/telegram/json-calls.js';
import { machine } from './lib/setup.js';
import { median, table } from './lib/stats.js';

const CALLS = Number(process.env.BENCH_API_CALLS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_API_ROUNDS ?? 5);
const IN_FLIGHT = 8;
const TOKEN = '123456:bench-api-calls';
if (!Number.isInteger(CALLS) || CALLS < 100 || !Number.isInteger(ROUNDS) || ROUNDS < 1) {
  console.error('bench:api-calls: BENCH_API_CALLS must be an integer ≥ 100 and BENCH_API_ROUNDS ≥ 1');
  process.exit(1);
}
const watchdog = setTimeout(() => {
  console.error('bench:api-calls: over 5 minutes; giving up');
  process.exit(2);
}, 300_000);
watchdog.unref();

// The server: its own process, so only the client's CPU is measured here.
const SERVER = `
const http = require('node:http');
const body = JSON.stringify({ ok: true, result: { message_id: 5, from: { id: 123456, is_bot: true, first_name: 'Shop', username: 'shop_bot' },
  chat: { id: 42, first_name: 'Anna', type: 'private' }, date: 1765000000, text: 'Main menu', entities: [{ offset: 0, length: 9, type: 'bold' }],
  reply_markup: { inline_keyboard: [[{ text: 'Orders', callback_data: 'o:list:0' }, { text: 'Wishlist', callback_data: 'w:list' }],
  [{ text: 'Loyalty', callback_data: 'y:show' }, { text: 'Profile', callback_data: 'p:show' }], [{ text: 'Help', callback_data: 'h:show' }]] } } });
const server = http.createServer((req, res) => { req.resume(); req.on('end', () => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }); res.end(body); }); });
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.send(server.address().port));
`;
const server = fork('-e', [SERVER], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
server.on('error', (err) => { console.error(err); process.exit(1); });

const port = await new Promise<number>((resolve) => server.once('message', (p) => resolve(Number(p))));
const apiRoot = `http://127.0.0.1:${port}`;

const menu = new InlineKeyboard().text('Orders', 'o:list:0').text('Wishlist', 'w:list').row().text('Loyalty', 'y:show').text('Profile', 'p:show').row().text('Help', 'h:show');
const extra = { parse_mode: 'HTML' as const, link_preview_options: { is_disabled: true }, reply_markup: menu };

function kabinetApi(json: boolean): Api {
  const client = { apiRoot, fetch: createRetryingFetch(createKeepAliveFetch()) };
  const api = new Api(TOKEN, client);
  if (json) useJsonCalls(api, client);
  return api;
}
const subjects: { name: string; api: Api }[] = [
  { name: "grammY as it comes (node-fetch): the baseline", api: new Api(TOKEN, { apiRoot }) },
  { name: "grammY's client over Kabinet's fetch (undici's request)", api: kabinetApi(false) },
  { name: "Kabinet's plain JSON calls over that fetch", api: kabinetApi(true) },
];

async function run(api: Api, calls: number): Promise<number> {
  let next = 0;
  const c0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next++ < calls) await api.sendMessage(42, '<b>Main menu</b>', extra);
    }),
  );
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / calls;
}

console.log(`Kabinet Bot API call benchmark — ${new Date().toISOString()}\nMachine: ${machine()}\n`);
for (const s of subjects) await run(s.api, 3000); // warm: connections, JIT
const perCall = subjects.map(() => [] as number[]);
for (let round = 0; round < ROUNDS; round++) {
  for (const [i, s] of subjects.entries()) perCall[i]!.push(await run(s.api, CALLS));
}
const base = median(perCall[0]!);
console.log(
  table([
    ['sendMessage, 8 in flight', 'CPU per call (median round)', 'rounds', 'of the baseline'],
    ...subjects.map((s, i) => [s.name, `${median(perCall[i]!).toFixed(1)} µs`, perCall[i]!.map((x) => x.toFixed(0)).join(' / '), `×${(median(perCall[i]!) / base).toFixed(2)}`]),
  ]),
);
console.log(`\n${CALLS} calls per subject per round, ${ROUNDS} rounds alternated; CPU: this process's user + system time (process.cpuUsage).`);
server.kill();
process.exit(0);
