/**
 * npm run bench: Kabinet's speed next to baselines, in one bounded run on loopback.
 * See bench/README.md for what each figure means. Sizes can be changed with BENCH_CHATS,
 * BENCH_UPDATES, BENCH_BURST and BENCH_NOTIFICATIONS.
 */
import { performance } from 'node:perf_hooks';
import { DATABASE_NAME, deleteBenchKeys, dropDatabase, freshDatabase, machine, memory } from './lib/setup.js';
import { mib, ms, rate, ratio, summarize, table } from './lib/stats.js';
import { runNotificationBenchmark, type NotificationFigures, type NotificationOptions } from './scenarios/notifications.js';
import { OPEN_LOOP_P99_MS, STAGES, type OpenLoopFigures, type OpenLoopStep } from './scenarios/open-loop.js';
import { killShopBenchChildren, printShopApiFigures, runShopApiBenchmark, shopApiOptionsFromEnv } from './scenarios/shop-api.js';
import { runOpenLoopOnly, runUpdateBenchmarks, runVkFloodOnly, type BurstFigures, type OpenLoopResult, type SubjectFigures } from './scenarios/updates.js';
import { loadavg } from 'node:os';
import type { FloodRun } from './scenarios/vk-flood.js';

const BUDGET_MS = 600_000;
/** Each extra open-loop round (BENCH_OPEN_ROUNDS) adds about two minutes. */
const ROUND_BUDGET_MS = 150_000;
/** A whole-number knob from the environment; `min` 0 where 0 means "none" (said in `zero`). */
const int = (name: string, fallback: number, min = 1, zero = '') => {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a ${min === 0 ? 'whole number' : 'positive whole number'}${zero ? ` (0: ${zero})` : ''}`);
  return n;
};
const sizes = {
  chats: int('BENCH_CHATS', 40),
  steps: int('BENCH_UPDATES', 10),
  burst: int('BENCH_BURST', 20),
  notifications: int('BENCH_NOTIFICATIONS', 300),
  floodPeople: int('BENCH_FLOOD_PEOPLE', 30),
  floodWarm: int('BENCH_FLOOD_WARM', 150, 0, 'no warm-up'),
  floodPerPerson: int('BENCH_FLOOD_EVENTS', 10),
  openLoopRates: (process.env.BENCH_OPEN_RATES ?? '50,100,150,200,300,400,500,600,800,1000,1200,1500,2000,2500,3000,4000,5000,6000,8000').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0),
  openLoopSeconds: int('BENCH_OPEN_SECONDS', 2),
  openLoopRefine: int('BENCH_OPEN_REFINE', 3, 0, 'the ladder alone'),
  openLoopRetries: int('BENCH_OPEN_RETRIES', 1, 0, 'one run per step'),
  /** BENCH_OPEN_ROUNDS=5: the whole interleaved ladder five times; each bot's figure is its median round's. */
  openLoopRounds: int('BENCH_OPEN_ROUNDS', 1),
  /** BENCH_OPEN_QUEUED=1 (with BENCH_ONLY=open-loop): a third subject, the bare bot behind Kabinet's inbound queue. */
  openLoopQueued: process.env.BENCH_OPEN_QUEUED === '1',
  /** BENCH_OPEN_SPLIT=1 (with BENCH_ONLY=open-loop): Kabinet also as a web process + a worker process. */
  openLoopSplit: process.env.BENCH_OPEN_SPLIT === '1',
};

/**
 * BENCH_ONLY=open-loop: benchmark 1b alone (both bots, the same steps), about a minute.
 * BENCH_ONLY=notifications: benchmark 3 alone (its three runs), about half a minute.
 * BENCH_ONLY=vk-flood: benchmark 5 alone (same process and split; BENCH_FLOOD_DIRECT=1 adds the direct route; BENCH_FLOOD_WARM warm-up events per connection, BENCH_FLOOD_COLD=1 connections opened inside the timed region), about a minute.
 */
const ONLY = ['open-loop', 'notifications', 'vk-flood'] as const;
const only = process.env.BENCH_ONLY || undefined;
if (only !== undefined && !(ONLY as readonly string[]).includes(only)) throw new Error(`BENCH_ONLY must be one of: ${ONLY.join(', ')}`);

const budgetMs = BUDGET_MS + (sizes.openLoopRounds - 1) * ROUND_BUDGET_MS;
const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${budgetMs / 1000} s; giving up (the database ${DATABASE_NAME} is left for inspection)`);
  killShopBenchChildren();
  process.exit(2);
}, budgetMs);
watchdog.unref();

const began = performance.now();
const elapsed = () => `${((performance.now() - began) / 1000).toFixed(1)} s`;
const log = (line: string) => console.log(`[${elapsed()}] ${line}`);

console.log(`Kabinet benchmarks — ${new Date().toISOString()}`);
console.log(`Machine: ${machine()}`);
const load = () => loadavg().map((x) => x.toFixed(1)).join(' / ');
console.log(`Load average (1 / 5 / 15 min) at start: ${load()}${loadavg()[0]! > 1.5 ? ' — the machine is busy: read the ratios, not the milliseconds' : ''}`);
console.log(`Sizes: ${sizes.chats} chats × ${sizes.steps} updates; ${sizes.burst} concurrent updates; ${sizes.notifications} notifications per run\n`);

/** An open-loop row's rate, marked when it was a bisection step or a second run. */
const stepLabel = (step: OpenLoopStep) => `${step.round ? `r${step.round} ` : ''}${step.rate}/s${step.refined ? ' (bisection)' : ''}${step.again ? ' again' : ''}`;

function printOpenLoop(openLoop: OpenLoopResult) {
  const rowsOpen: string[][] = [['1b. open loop (offered rate)', 'subject', 'sent', 'missing', 'p50', 'p99', 'CPU per update', 'bot loop p99', 'max', 'bench loop p99', 'max']];
  const named: Array<[string, OpenLoopFigures | undefined]> = [['bare grammY', openLoop.bare], ['bare + queue', openLoop.queued], ['Kabinet', openLoop.kabinet], ['Kabinet split', openLoop.split]];
  const subjects = named.filter((s): s is [string, OpenLoopFigures] => s[1] !== undefined);
  for (const [name, f] of subjects) {
    for (const step of f.steps) rowsOpen.push([stepLabel(step), name, String(step.sent), String(step.missing), ms(step.p50), ms(step.p99), step.cpuMsPerUpdate === undefined ? '—' : `${(step.cpuMsPerUpdate * 1000).toFixed(0)} µs`, step.botLoop ? ms(step.botLoop.p99) : '—', step.botLoop ? ms(step.botLoop.max) : '—', step.benchLoop ? ms(step.benchLoop.p99) : '—', step.benchLoop ? ms(step.benchLoop.max) : '—']);
  }
  console.log(table(rowsOpen));
  const { bare: ob, kabinet: ok } = openLoop;
  if (openLoop.rounds.length > 1) {
    const rounds = openLoop.rounds.map((r, i) => `round ${i + 1}: bare ${r.bare}/s, Kabinet ${r.kabinet}/s (${ratio(r.kabinet, r.bare)})${r.split !== undefined ? `, split ${r.split}/s (${ratio(r.split, r.bare)})` : ''}`);
    console.log(`${openLoop.rounds.length} rounds (BENCH_OPEN_ROUNDS), each the whole ladder with the bots interleaved; the figures below are each bot's median round. ${rounds.join('; ')}.`);
  }
  console.log(`Highest offered rate with p99 < ${OPEN_LOOP_P99_MS} ms: bare grammY ${ob.best}/s, Kabinet ${ok.best}/s (${ratio(ok.best, ob.best)} of the bare bot). /start to ${sizes.chats} chats round robin, ${sizes.openLoopSeconds} s per rate, the two bots interleaved rate by rate, rates tried in order until two in a row have p99 over ${2 * OPEN_LOOP_P99_MS} ms, then ${sizes.openLoopRefine} bisection steps between the highest rate that passed and the next that failed (BENCH_OPEN_REFINE); a failing step is run again ${sizes.openLoopRetries === 1 ? 'once' : `up to ${sizes.openLoopRetries} times`} for either bot ("again"; BENCH_OPEN_RETRIES) and the rate passes if one run does; update queued at the fake → reply at the fake. "bot loop": the bot process's own event-loop delay over the step (split: the web process's); "bench loop": the bench process's (it runs the fake Telegram and the driver for both bots).\n`);
  if (openLoop.queued) {
    const oq = openLoop.queued;
    console.log(`With BENCH_OPEN_QUEUED=1, "bare + queue" is the bare bot's handlers behind Kabinet's durable inbound queue (the update recorded in Redis before the webhook is answered, per-chat order, the queue's consumer in the same process): ${oq.best}/s, ${ratio(oq.best, ob.best)} of the bare bot (the queue's price); Kabinet ${ratio(ok.best, oq.best)} of it (the brain's).\n`);
  }
  if (openLoop.split) {
    const os = openLoop.split;
    console.log(`With BENCH_OPEN_SPLIT=1, "Kabinet split" is Kabinet as production runs it, \`npm run web\` + \`npm run worker\`: a web-only process records each update and answers, a second process's consumers run the brain (three Redis calls per update and a wake-up, over two event loops; CPU per update is both processes'): ${os.best}/s, ${ratio(os.best, ob.best)} of the bare bot.\n`);
  }
  const staged = openLoop.kabinet.steps.filter((s) => s.stages);
  if (staged.length) {
    const rows: string[][] = [['Kabinet, where the time went', ...STAGES.flatMap((name) => [`${name} p50`, 'p99'])]];
    for (const step of staged) rows.push([stepLabel(step), ...STAGES.flatMap((name) => [ms(step.stages![name].p50), ms(step.stages![name].p99)])]);
    console.log(table(rows));
    console.log('to recorded: update queued at the fake → recorded in the inbound queue (Redis clock); to pickup: → a consumer started it; to reply: → its reply answered at the fake; after reply: → the handler finished (state writes, release).\n');
  }
}

function printNotifications(notifications: NotificationFigures[]) {
  const rows3: string[][] = [['3. notifications', 'TELEGRAM_RATE_LIMIT', 'fake limits', 'delivered', 'shop API', 'messages/s', 'of cap', 'first → last', 'of cap', 'peak in 1 s', '429s', 'e2e p50', 'p95', 'p99']];
  for (const n of notifications) {
    const s = summarize(n.latencies);
    const sendRate = n.delivered / (n.wallMs / 1000);
    rows3.push([
      n.options.mode === 'live' ? 'live (worker running)' : 'backlog drain',
      String(n.options.ratePerSecond),
      n.options.fakeLimits ? '30/s, 429' : 'off',
      `${n.delivered}/${n.options.count}`,
      rate(n.options.count / (n.apiMs / 1000), ' req/s'),
      rate(sendRate),
      `${((100 * sendRate) / n.options.ratePerSecond).toFixed(0)}%`,
      ...(() => {
        // n messages span n − 1 gaps: the pace between the first and the last one.
        const pace = (n.delivered - 1) / (n.firstToLastMs / 1000);
        return Number.isFinite(pace) ? [rate(pace), `${((100 * pace) / n.options.ratePerSecond).toFixed(1)}%`] : ['—', '—'];
      })(),
      String(n.peakPerSecond),
      String(n.tooManyRequests),
      s.count ? ms(s.p50) : '—',
      s.count ? ms(s.p95) : '—',
      s.count ? ms(s.p99) : '—',
    ]);
  }
  console.log(table(rows3));
  console.log(`Rows: ${notifications.map((n) => `${n.options.name} ${JSON.stringify(n.rowsByStatus)}`).join('; ')}`);
  console.log(`Shop concurrency ${notifications[0]!.options.shopConcurrency}. "shop API": signed status changes answered per second. live: messages/s and latency from the shop's POST to the message at the fake. backlog: the send queue is held while the shop posts; messages/s from its resume to the last message. The worker: \`src/main.ts worker\` in its own process. "first → last": the pace from the first message to the last (the limiter's own rate, without the worker's start-up).\n`);
}

const notificationRuns: NotificationOptions[] = [
  { name: 'live', mode: 'live', count: sizes.notifications, ratePerSecond: 1000, fakeLimits: false, shopConcurrency: 16, userIdBase: 800_000_000 },
  { name: 'ceiling', mode: 'backlog', count: sizes.notifications, ratePerSecond: 1000, fakeLimits: false, shopConcurrency: 16, userIdBase: 810_000_000 },
  { name: 'cap', mode: 'backlog', count: sizes.notifications, ratePerSecond: 30, fakeLimits: true, shopConcurrency: 16, userIdBase: 820_000_000 },
];
async function runNotifications(): Promise<NotificationFigures[]> {
  const figures: NotificationFigures[] = [];
  for (const run of notificationRuns) {
    log(`3. notifications: ${run.mode}, TELEGRAM_RATE_LIMIT=${run.ratePerSecond}, fake limits ${run.fakeLimits ? 'on' : 'off'}`);
    figures.push(await runNotificationBenchmark(run));
  }
  return figures;
}

function printVkFlood(runs: Array<[string, FloodRun | undefined]>) {
  const rows5: string[][] = [['5. VK flood', 'events', 'answer p50', 'p99', 'max', 'answered in', 'bot loop p99', 'max', 'bench loop p99', 'max', 'reply p50', 'p99', 'max', 'wall', 'non-200', 'sends refused']];
  for (const [name, f] of runs) {
    if (!f) continue;
    const a = summarize(f.answers);
    const r = summarize(f.replies);
    const non200 = [...f.statuses].filter(([s]) => s !== 200).reduce((n, [, c]) => n + c, 0);
    rows5.push([name, String(f.events), ms(a.p50), ms(a.p99), ms(a.max), ms(f.answeredMs), f.botLoop ? ms(f.botLoop.p99) : '—', f.botLoop ? ms(f.botLoop.max) : '—', ms(f.benchLoop.p99), ms(f.benchLoop.max), ms(r.p50), ms(r.p99), ms(r.max), ms(f.wallMs), String(non200), String(f.refused)]);
  }
  console.log(table(rows5));
  console.log(`${sizes.floodPeople} people × ${sizes.floodPerPerson} messages, each person's next event sent when the previous one was answered (VK's one event per peer in flight), people in parallel, each on a keep-alive connection opened before the flood${process.env.BENCH_FLOOD_COLD === '1' ? ' (here BENCH_FLOOD_COLD=1: opened with its first event, inside the timed region)' : ' (BENCH_FLOOD_COLD=1: opened with the first event)'}. Split: a web-only process records (npm run web), the other process's consumers handle (npm run worker). Replies are bounded by VK's 20 requests/s per community. "answered in": the first event sent → the last answered; "bot loop": the answering process's event-loop delay over that time (split: the web process's), "bench loop": the bench process's (it runs the fake VK and times the answers).\n`);
}
const floodNames = { direct: 'direct (handled before "ok", previous design)', queued: 'inbound queue, brain in the same process', split: 'inbound queue, web and brain split' } as const;

log(`removed ${await deleteBenchKeys()} Redis keys of earlier runs`);
if (only === 'notifications') {
  log('3. notifications alone (BENCH_ONLY=notifications)');
  await freshDatabase();
  const figures = await runNotifications();
  await dropDatabase();
  log(`done; database ${DATABASE_NAME} dropped; load average at end: ${load()}\n`);
  printNotifications(figures);
  console.log(`Total ${elapsed()}.`);
  process.exit(0);
}
if (only === 'vk-flood') {
  log('5. VK flood alone (BENCH_ONLY=vk-flood)');
  await freshDatabase();
  const floods = await runVkFloodOnly({ floodPeople: sizes.floodPeople, floodPerPerson: sizes.floodPerPerson, floodWarm: sizes.floodWarm, direct: process.env.BENCH_FLOOD_DIRECT === '1' });
  await dropDatabase();
  log(`done; database ${DATABASE_NAME} dropped; load average at end: ${load()}\n`);
  printVkFlood([
    [floodNames.direct, floods.direct],
    [floodNames.queued, floods.queued],
    [floodNames.split, floods.split],
  ]);
  console.log(`Total ${elapsed()}.`);
  process.exit(0);
}
if (only === 'open-loop') {
  log('1b. open loop alone (BENCH_ONLY=open-loop)');
  await freshDatabase();
  const openLoop = await runOpenLoopOnly(sizes);
  await dropDatabase();
  log(`done; database ${DATABASE_NAME} dropped; load average at end: ${load()}\n`);
  printOpenLoop(openLoop);
  console.log(`Total ${elapsed()}.`);
  process.exit(0);
}

const db = await freshDatabase();
log(`database ${DATABASE_NAME}: migrated and seeded (${db.seeded.customers} customers, ${db.seeded.orders} orders, ${db.seeded.products} products)`);
const memStart = memory();

log('1–2. updates through the webhook route: bare grammY, then Kabinet');
const updates = await runUpdateBenchmarks(sizes);
const memAfterUpdates = memory();

const notifications = await runNotifications();
log('6. shop API: closed loop against a bare Fastify baseline, then status → message at a fixed rate');
const shopApi = await runShopApiBenchmark(shopApiOptionsFromEnv(), log);
const memEnd = memory();
await dropDatabase();
log(`done; database ${DATABASE_NAME} dropped; load average at end: ${load()}\n`);

// ───── figures ─────
const lat = (samples: number[]) => summarize(samples);
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

printOpenLoop(updates.openLoop);

const rows2: string[][] = [['2. concurrent updates', `${sizes.burst} in ONE chat: wall`, 'answer p50', 'max', 'handled p50', 'max', `${sizes.burst} chats × 1: wall`, 'handled p50', 'max', 'one chat vs spread (wall)']];
const add2 = (name: string, f: { sameChat: BurstFigures; spread: BurstFigures }) => {
  const a = lat(f.sameChat.latencies);
  const ah = lat(f.sameChat.handled ?? f.sameChat.latencies);
  const bh = lat(f.spread.handled ?? f.spread.latencies);
  rows2.push([name, ms(f.sameChat.wallMs), ms(a.p50), ms(a.max), ms(ah.p50), ms(ah.max), ms(f.spread.wallMs), ms(bh.p50), ms(bh.max), ratio(f.sameChat.wallMs, f.spread.wallMs)]);
};
add2('bare grammY (no lock)', updates.burst.bare);
add2('Kabinet (inbound queue)', updates.burst.kabinet);
add2(`Kabinet direct (lock poll ≤${updates.tunedPollMs} ms)`, updates.burst.kabinetFastPoll);
console.log(table(rows2));
const hand = lat(updates.burst.kabinet.sameChat.handoverMs ?? []);
console.log(`Inbound queue hand-over within the one chat (previous update finished → next started, ${hand.count} gaps): p50 ${ms(hand.p50)}, p95 ${ms(hand.p95)}, max ${ms(hand.max)}.`);
const bad = Object.entries(updates.burst).flatMap(([k, v]) => [...v.sameChat.statuses, ...v.spread.statuses].filter(([s]) => s !== 200).map(([s, n]) => `${k}: ${n}×${s}`));
console.log(bad.length ? `Non-200 webhook answers: ${bad.join(', ')}` : 'All webhook answers 200.');
console.log('The bench POSTs the updates itself, all at once (a second instance, a retry or VK can do this; Telegram sends one chat in sequence). "answer": POST → webhook answered; "handled": POST → the reply at the fake (the direct route answers after handling, so both are the same there).\n');

printVkFlood([
  [floodNames.direct, updates.vkFlood.direct],
  [floodNames.queued, updates.vkFlood.queued],
  [floodNames.split, updates.vkFlood.split],
]);

printNotifications(notifications);

console.log(printShopApiFigures(shopApi));
console.log('');

const rows4: string[][] = [['4. memory (after full GC)', 'RSS', 'heap used', 'external']];
for (const [label, m] of [
  ['bare grammY process, after 1–2', updates.memory.bare],
  ['Kabinet web process, after 1–2', updates.memory.kabinet],
  ['bench process: after database setup', memStart],
  ['bench process: after 1–2', memAfterUpdates],
  ['bench process: after 3 (end)', memEnd],
] as const) {
  rows4.push([label, mib(m.rss), mib(m.heapUsed), mib(m.external)]);
}
console.log(table(rows4));
console.log('Benchmarks 1–2 run each bot in its own process; the bench process holds the fake Telegram servers and, for 3, Kabinet\'s web and worker roles.');
console.log(`\nTotal ${elapsed()}.`);
process.exit(0);
