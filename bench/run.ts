/**
 * npm run bench: Kabinet's speed next to baselines, in one bounded run on loopback.
 * See bench/README.md for what each figure means. Sizes can be changed with BENCH_CHATS,
 * BENCH_UPDATES, BENCH_BURST and BENCH_NOTIFICATIONS; BENCH_ONLY=notifications runs benchmark 3
 * (and the memory rows it has) alone.
 */
import { performance } from 'node:perf_hooks';
import { deleteBenchKeys, dropDatabase, freshDatabase, machine, memory } from './lib/setup.js';
import { mib, ms, rate, ratio, summarize, table } from './lib/stats.js';
import { runNotificationBenchmark, type NotificationFigures, type NotificationOptions } from './scenarios/notifications.js';
import { runUpdateBenchmarks, type BurstFigures, type SubjectFigures } from './scenarios/updates.js';

const BUDGET_MS = 180_000;
const int = (name: string, fallback: number) => {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive whole number`);
  return n;
};
const sizes = {
  chats: int('BENCH_CHATS', 40),
  steps: int('BENCH_UPDATES', 10),
  burst: int('BENCH_BURST', 20),
  notifications: int('BENCH_NOTIFICATIONS', 300),
};

const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${BUDGET_MS / 1000} s; giving up (the database kabinet_bench is left for inspection)`);
  process.exit(2);
}, BUDGET_MS);
watchdog.unref();

const began = performance.now();
const elapsed = () => `${((performance.now() - began) / 1000).toFixed(1)} s`;
const log = (line: string) => console.log(`[${elapsed()}] ${line}`);

console.log(`Kabinet benchmarks — ${new Date().toISOString()}`);
console.log(`Machine: ${machine()}`);
console.log(`Sizes: ${sizes.chats} chats × ${sizes.steps} updates; ${sizes.burst} concurrent updates; ${sizes.notifications} notifications per run\n`);

log(`removed ${await deleteBenchKeys()} Redis keys of earlier runs`);
const db = await freshDatabase();
log(`database kabinet_bench: migrated and seeded (${db.seeded.customers} customers, ${db.seeded.orders} orders, ${db.seeded.products} products)`);
const memStart = memory();

const notificationsOnly = process.env.BENCH_ONLY === 'notifications';
if (process.env.BENCH_ONLY !== undefined && !notificationsOnly) throw new Error('BENCH_ONLY: only "notifications" is known');
if (!notificationsOnly) log('1–2. updates through the webhook route: bare grammY, then Kabinet');
const updates = notificationsOnly ? undefined : await runUpdateBenchmarks(sizes);
const memAfterUpdates = memory();

const notificationRuns: NotificationOptions[] = [
  { name: 'live', mode: 'live', count: sizes.notifications, ratePerSecond: 1000, fakeLimits: false, shopConcurrency: 16, userIdBase: 800_000_000 },
  { name: 'ceiling', mode: 'backlog', count: sizes.notifications, ratePerSecond: 1000, fakeLimits: false, shopConcurrency: 16, userIdBase: 810_000_000 },
  { name: 'cap', mode: 'backlog', count: sizes.notifications, ratePerSecond: 30, fakeLimits: true, shopConcurrency: 16, userIdBase: 820_000_000 },
];
const notifications: NotificationFigures[] = [];
for (const run of notificationRuns) {
  log(`3. notifications: ${run.mode}, TELEGRAM_RATE_LIMIT=${run.ratePerSecond}, fake limits ${run.fakeLimits ? 'on' : 'off'}`);
  notifications.push(await runNotificationBenchmark(run));
}
const memEnd = memory();
await dropDatabase();
log('done; database kabinet_bench dropped\n');

// ───── figures ─────
const lat = (samples: number[]) => summarize(samples);
if (updates) printUpdates(updates);

const rows3: string[][] = [['3. notifications', 'TELEGRAM_RATE_LIMIT', 'fake limits', 'delivered', 'shop API', 'messages/s', 'of cap', 'peak in 1 s', '429s', 'e2e p50', 'p95', 'p99']];
for (const n of notifications) {
  const s = lat(n.latencies);
  const sendRate = n.delivered / (n.wallMs / 1000);
  rows3.push([
    n.options.mode === 'live' ? 'live (worker running)' : 'backlog drain',
    String(n.options.ratePerSecond),
    n.options.fakeLimits ? '30/s, 429' : 'off',
    `${n.delivered}/${n.options.count}`,
    rate(n.options.count / (n.apiMs / 1000), ' req/s'),
    rate(sendRate),
    `${((100 * sendRate) / n.options.ratePerSecond).toFixed(0)}%`,
    String(n.peakPerSecond),
    String(n.tooManyRequests),
    s.count ? ms(s.p50) : '—',
    s.count ? ms(s.p95) : '—',
    s.count ? ms(s.p99) : '—',
  ]);
}
console.log(table(rows3));
console.log(`Rows: ${notifications.map((n) => `${n.options.name} ${JSON.stringify(n.rowsByStatus)}`).join('; ')}`);
console.log(`Shop concurrency ${notificationRuns[0]!.shopConcurrency}. "shop API": signed status changes answered per second. live: messages/s and latency from the shop's POST to the message at the fake. backlog: the worker starts after all changes are in; messages/s from its start to the last message.\n`);

const rows4: string[][] = [['4. memory (after full GC)', 'RSS', 'heap used', 'external']];
for (const [label, m] of [
  ...(updates
    ? ([
        ['bare grammY process, after 1–2', updates.memory.bare],
        ['Kabinet web process, after 1–2', updates.memory.kabinet],
      ] as const)
    : []),
  ['bench process: after database setup', memStart],
  ...(updates ? ([['bench process: after 1–2', memAfterUpdates]] as const) : []),
  ['bench process: after 3 (end)', memEnd],
] as const) {
  rows4.push([label, mib(m.rss), mib(m.heapUsed), mib(m.external)]);
}
console.log(table(rows4));
console.log('Benchmarks 1–2 run each bot in its own process; the bench process holds the fake Telegram servers and, for 3, Kabinet\'s web and worker roles.');
console.log(`\nTotal ${elapsed()}.`);
process.exit(0);

function printUpdates(updates: Awaited<ReturnType<typeof runUpdateBenchmarks>>): void {
  const rows1: string[][] = [['1. updates (closed loop)', 'subject', 'updates', 'updates/s', 'p50', 'p95', 'p99', 'throughput vs bare', 'p50 vs bare']];
  const add1 = (label: string, name: string, f: SubjectFigures['start'], base: SubjectFigures['start'], pick: (step: number) => boolean = () => true) => {
    const s = lat(f.samples.filter((x) => pick(x.step)).map((x) => x.ms));
    const b = lat(base.samples.filter((x) => pick(x.step)).map((x) => x.ms));
    const tput = f.updates / (f.wallMs / 1000);
    const baseTput = base.updates / (base.wallMs / 1000);
    rows1.push([label, name, String(s.count), rate(tput), ms(s.p50), ms(s.p95), ms(s.p99), f === base ? 'baseline' : ratio(tput, baseTput), f === base ? 'baseline' : `+${ms(s.p50 - b.p50)}`]);
  };
  const { bare, kabinet } = updates;
  add1('/start → main menu', 'bare grammY', bare.start, bare.start);
  add1('', 'Kabinet', kabinet.start, bare.start);
  add1('buttons: orders ⇄ menu', 'bare grammY', bare.presses, bare.presses);
  add1('', 'Kabinet', kabinet.presses, bare.presses);
  add1('  of which "orders" (PostgreSQL)', 'bare grammY', bare.presses, bare.presses, (s) => s % 2 === 0);
  add1('', 'Kabinet', kabinet.presses, bare.presses, (s) => s % 2 === 0);
  add1('  of which "back to menu"', 'bare grammY', bare.presses, bare.presses, (s) => s % 2 === 1);
  add1('', 'Kabinet', kabinet.presses, bare.presses, (s) => s % 2 === 1);
  add1('one chat alone: /start', 'bare grammY', bare.solo.start, bare.solo.start);
  add1('', 'Kabinet', kabinet.solo.start, bare.solo.start);
  add1('one chat alone: "orders"', 'bare grammY', bare.solo.presses, bare.solo.presses, (s) => s % 2 === 0);
  add1('', 'Kabinet', kabinet.solo.presses, bare.solo.presses, (s) => s % 2 === 0);
  console.log(table(rows1));
  const refused = [...bare.refused, ...kabinet.refused];
  console.log(refused.length ? `Refused replies: ${refused.map(([k, v]) => `${k}: ${v}`).join(', ')}` : 'Every reply was accepted by the fake.');
  console.log(`PostgreSQL transactions per update (pg_stat_database): Kabinet /start ${kabinet.sqlPerUpdate.start.toFixed(1)}, buttons ${kabinet.sqlPerUpdate.presses.toFixed(1)}; bare grammY ${bare.sqlPerUpdate.start.toFixed(1)}.`);
  console.log(`${sizes.chats} chats concurrently, each sends its next update when the previous answer arrives. Latency: update queued at the fake → the bot's reply answered by the fake. "One chat alone": 20 updates, no other traffic (latency without queueing).\n`);

  const rows2: string[][] = [['2. concurrent updates', `${sizes.burst} in ONE chat: wall`, 'p50', 'max', `${sizes.burst} chats × 1: wall`, 'p50', 'max', 'one chat vs spread (wall)']];
  const add2 = (name: string, f: { sameChat: BurstFigures; spread: BurstFigures }) => {
    const a = lat(f.sameChat.latencies);
    const b = lat(f.spread.latencies);
    rows2.push([name, ms(f.sameChat.wallMs), ms(a.p50), ms(a.max), ms(f.spread.wallMs), ms(b.p50), ms(b.max), ratio(f.sameChat.wallMs, f.spread.wallMs)]);
  };
  add2('bare grammY (no lock)', updates.burst.bare);
  add2('Kabinet (default lock)', updates.burst.kabinet);
  add2(`Kabinet (lock poll ≤${updates.tunedPollMs} ms)`, updates.burst.kabinetFastPoll);
  console.log(table(rows2));
  const bad = Object.entries(updates.burst).flatMap(([k, v]) => [...v.sameChat.statuses, ...v.spread.statuses].filter(([s]) => s !== 200).map(([s, n]) => `${k}: ${n}×${s}`));
  console.log(bad.length ? `Non-200 webhook answers: ${bad.join(', ')}` : 'All webhook answers 200.');
  console.log('The bench POSTs the updates itself, all at once (a second instance, a retry or VK can do this; Telegram sends one chat in sequence). Latency: POST → webhook answered.\n');
}

