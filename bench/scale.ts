/**
 * npm run bench:scale — one web + one worker against two webs + two workers (child processes,
 * `src/main.ts web|worker`, production config) behind the same Redis and PostgreSQL and the
 * same fake Telegram, with a round-robin balancer in front of the webs. In one run, baseline
 * (1×) and scaled (2×) side by side, with the ratio 2×/1×:
 *
 *  - inbound: Telegram webhook updates from many chats (the fake delivers them as Telegram
 *    does: one update per chat in flight, at most 40 connections) through the balancer, so a
 *    chat's consecutive updates land on different webs and are run by whichever worker holds
 *    the chat. Each update is a deep link to a different product and each reply names it, so
 *    the order of a chat's replies at the fake is checked against the order sent;
 *  - notifications with the fake's caps off and TELEGRAM_RATE_LIMIT=1000: signed status
 *    changes spread across the webs (shop API intake), then the send queue drained by the
 *    workers (messages/s);
 *  - notifications with the fake's Telegram caps on (30/s per bot, 429 with retry_after) and
 *    the default TELEGRAM_RATE_LIMIT=30: the most messages the fake accepted in any sliding
 *    second, summed over every worker, and every 429.
 *
 * Every figure is printed with the load average it was measured under. Bounded: a watchdog
 * stops the run after BENCH_SCALE_BUDGET_S (900) seconds, killing the child processes.
 */
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createFakeTelegram, type FakeTelegram } from '../src/fakes/telegram/index.js';
import { SEND_QUEUE } from '../src/notifications/send-queue.js';
import { WEBHOOK_SECRET } from './lib/bots.js';
import { createCpuGroup, type CpuGroup } from './lib/cpu-group.js';
import { loadAverage, startBalancer, startRole, startTcpBalancer, waitForOk, waitForQueueWorkers, type Balancer, type RoleProcess } from './lib/cluster.js';
import { pool } from './lib/replies.js';
import { createPhase, DATABASE_NAME, deleteBenchKeys, dropDatabase, freePort, freshDatabase, machine, type Phase } from './lib/setup.js';
import { rate, ratio, table } from './lib/stats.js';
import { importLinkedBuyers, peakWindow, signedPost } from './scenarios/notifications.js';

const int = (name: string, fallback: number) => {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive whole number`);
  return n;
};
const sizes = {
  chats: int('BENCH_SCALE_CHATS', 100),
  updates: int('BENCH_SCALE_UPDATES', 10),
  notifications: int('BENCH_SCALE_NOTIFICATIONS', 600),
  capped: int('BENCH_SCALE_CAPPED', 300),
  shopConcurrency: int('BENCH_SCALE_SHOP_CONCURRENCY', 32),
};
/** BENCH_SCALE_PARTS=high,capped (default both): the caps-off rounds (A, B) and the caps-on rounds (C). */
const PARTS = new Set((process.env.BENCH_SCALE_PARTS ?? 'high,capped').split(',').map((x) => x.trim()));
const BUDGET_MS = int('BENCH_SCALE_BUDGET_S', 900) * 1000;
/**
 * BENCH_SCALE_PIN=1: each web + worker pair pinned to its own core (taskset), so 1× runs on one
 * core and 2× on two, as instances on their own machines would. Without it, 1× already spreads
 * over both cores of this machine and 2× has no CPU to add. The bench process (fake Telegram,
 * balancer), PostgreSQL and Redis are not pinned: they compete with the instances in both.
 */
const PIN = process.env.BENCH_SCALE_PIN === '1';
/**
 * BENCH_SCALE_CPU_QUOTA=<cores>: each instance (web i + worker i, or one combined process) gets
 * its own CPU budget of that many cores (a cgroup CPU quota, as a container's CPU limit: 0.5 is
 * Kubernetes' `cpu: 500m`), so 1× has one budget and 2× two, as instances on machines of their
 * own would, while the bench process, PostgreSQL and Redis keep the rest of this machine. Needs
 * root (a cgroup is created per instance and removed after).
 */
const CPU_QUOTA = process.env.BENCH_SCALE_CPU_QUOTA === undefined ? undefined : Number(process.env.BENCH_SCALE_CPU_QUOTA);
if (CPU_QUOTA !== undefined && !(CPU_QUOTA > 0)) throw new Error('BENCH_SCALE_CPU_QUOTA must be a positive number of cores (0.5: half a core per instance)');
/**
 * BENCH_SCALE_SHAPE=combined: each instance is one process running both roles (`src/main.ts all`,
 * what `npm run dev` runs), 1 against 2 of them, instead of separate web and worker processes
 * (`roles`, the default). A combined process handles the updates it records itself (one Redis call
 * fewer per update, no wake-up) in one event loop, where one web + one worker are two; on a
 * machine where a single event loop is what binds, the second instance has a core to add.
 */
const SHAPE = process.env.BENCH_SCALE_SHAPE ?? 'roles';
if (SHAPE !== 'roles' && SHAPE !== 'combined') throw new Error('BENCH_SCALE_SHAPE must be roles or combined');
const COMBINED = SHAPE === 'combined';
/**
 * BENCH_SCALE_BALANCER=tcp: the balancer relays connections (L4) instead of proxying each HTTP
 * request (`http`, the default, so consecutive updates of a chat alternate webs strictly).
 */
const BALANCER = process.env.BENCH_SCALE_BALANCER ?? 'http';
if (BALANCER !== 'http' && BALANCER !== 'tcp') throw new Error('BENCH_SCALE_BALANCER must be http or tcp');
const name = (n: number) => (COMBINED ? `${n} × web+worker process` : `${n} web + ${n} worker`);
/**
 * BENCH_SCALE_API_LATENCY_MS=<ms>: the fake answers every Bot API call this long after handling
 * it, as Telegram does from a shop's server (a round trip of tens of milliseconds, often 100 ms
 * or more). With 0 (the default) a call costs only CPU, and on this 2-core machine the instances
 * are CPU-bound from the start; with a round trip, one worker's chats in flight
 * (INBOUND_CONCURRENCY, 128) bound its throughput once the round trip is long enough (500 ms with
 * BENCH_SCALE_CHATS=400 on two cores), and a second worker adds its own.
 */
const API_LATENCY_MS = Number(process.env.BENCH_SCALE_API_LATENCY_MS ?? 0);
if (!(API_LATENCY_MS >= 0)) throw new Error('BENCH_SCALE_API_LATENCY_MS must be a number of milliseconds');
const CORES = availableParallelism();
/** The fake's free Telegram cap (messages per second per bot), DEFAULT_RATE_LIMITS.global. */
const TELEGRAM_CAP = 30;
/**
 * Work done before each measured pass, per worker process (so each process of the 2× pair is as
 * warm as the 1× one): updates per chat, and status changes with the caps off / on. A process
 * measured cold spends much of its CPU compiling (V8, Prisma's query plans), once per process.
 */
const WARM_UP_UPDATES = 2;
const WARM_UP_CHANGES = 150;
const WARM_UP_CHANGES_CAPPED = TELEGRAM_CAP;
/** How long the idle processes' CPU is sampled after start-up. */
const IDLE_SAMPLE_MS = 5_000;

const watchdog = setTimeout(() => {
  console.error(`bench:scale: still running after ${BUDGET_MS / 1000} s; giving up (child processes are killed; the database ${DATABASE_NAME} is left for inspection)`);
  process.exit(2);
}, BUDGET_MS);
watchdog.unref();

const began = performance.now();
const log = (line: string) => console.log(`[${((performance.now() - began) / 1000).toFixed(1)} s, load ${loadAverage()}] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds a process has used so far (user + system), from /proc. */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}
const benchCpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

interface Cluster {
  label: string;
  webs: RoleProcess[];
  workers: RoleProcess[];
  balancer: Balancer;
  phase: Phase;
  fake: FakeTelegram;
  token: string;
  /** CPU share (of one core) each web and each worker uses while idle. */
  idle: CpuSplit;
  /** BENCH_SCALE_CPU_QUOTA: each instance's CPU budget. */
  groups: CpuGroup[];
}

interface CpuSplit {
  webs: number;
  workers: number;
  bench: number;
}

/** CPU seconds spent by each kind of process while `fn` ran. */
async function measureCpu<T>(cluster: Cluster, fn: () => Promise<T>): Promise<{ result: T; cpu: CpuSplit }> {
  const sum = (ps: RoleProcess[]) => ps.reduce((s, p) => s + cpuSeconds(p.pid), 0);
  const before = { webs: sum(cluster.webs), workers: sum(cluster.workers), bench: benchCpuSeconds() };
  const result = await fn();
  return { result, cpu: { webs: sum(cluster.webs) - before.webs, workers: sum(cluster.workers) - before.workers, bench: benchCpuSeconds() - before.bench } };
}

let roundNo = 0;

async function startCluster(n: number, capped: boolean): Promise<Cluster> {
  roundNo += 1;
  const label = `${n}x-${capped ? 'cap' : 'high'}`;
  const fake = createFakeTelegram({ rateLimits: capped ? undefined : false, requireStart: false, recordCalls: false, apiLatencyMs: API_LATENCY_MS });
  const apiRoot = await fake.listen();
  const token = `71300${roundNo}:AAbench-scale-${label}`;
  fake.createBot({ token, username: `bench_scale_${roundNo}_bot` });
  const ports = await Promise.all(Array.from({ length: n }, () => freePort()));
  const balancer = await (BALANCER === 'tcp' ? startTcpBalancer : startBalancer)(ports.map((p) => `http://127.0.0.1:${p}`));
  const phase = await createPhase(`scale${label}`, {
    HOST: '127.0.0.1',
    TELEGRAM_BOT_TOKEN: token,
    TELEGRAM_API_ROOT: apiRoot,
    // Every web sets the same webhook: the balancer's address, as behind a load balancer.
    TELEGRAM_WEBHOOK_URL: balancer.origin,
    TELEGRAM_WEBHOOK_SECRET: WEBHOOK_SECRET,
    TELEGRAM_RATE_LIMIT: capped ? String(TELEGRAM_CAP) : '1000',
  });
  // BENCH_SCALE_PIN=1: instance pair i (web i + worker i) on core i: 1× gets one core, 2× two.
  const core = (i: number) => (PIN ? String(i % CORES) : undefined);
  // BENCH_SCALE_CPU_QUOTA: instance i (web i + worker i) shares one budget of its own.
  const groups = CPU_QUOTA === undefined ? [] : ports.map((_, i) => createCpuGroup(`kabinet-bench-${process.pid}-${label}-${i}`, CPU_QUOTA));
  // Combined: each process is both a web and a worker; its CPU is counted with the webs.
  const webs = ports.map((port, i) => startRole(COMBINED ? 'all' : 'web', { ...phase.env, PORT: String(port) }, core(i), groups[i]));
  const workers = COMBINED ? [] : Array.from({ length: n }, (_, i) => startRole('worker', { ...phase.env, PORT: '0' }, core(i), groups[i]));
  // Measure the running system, not start-up: every web healthy, every worker on the send queue.
  await Promise.all(ports.map((p) => waitForOk(`http://127.0.0.1:${p}/health`)));
  await waitForQueueWorkers(phase.queues.queue(SEND_QUEUE.telegram), n, label);
  await sleep(1000);
  const cluster: Cluster = { label, webs, workers, balancer, phase, fake, token, idle: { webs: 0, workers: 0, bench: 0 }, groups };
  // What the processes spend with nothing to do (pollers, sweeps, timers): it grows with their number.
  const { cpu } = await measureCpu(cluster, () => sleep(IDLE_SAMPLE_MS));
  cluster.idle = { webs: cpu.webs / n / (IDLE_SAMPLE_MS / 1000), workers: cpu.workers / n / (IDLE_SAMPLE_MS / 1000), bench: cpu.bench / (IDLE_SAMPLE_MS / 1000) };
  return cluster;
}

const workersOf = (c: Cluster) => (COMBINED ? c.webs.length : c.workers.length);

async function stopCluster(c: Cluster): Promise<void> {
  // Webs first (stop taking work), then workers, as main.ts shuts down.
  await Promise.all(c.webs.map((w) => w.stop()));
  await Promise.all(c.workers.map((w) => w.stop()));
  if (c.groups.length > 0) {
    const t = c.groups.map((g) => g.throttling());
    log(`${c.label}: CPU quota ${CPU_QUOTA} cores per instance; throttled in ${t.map((x) => `${x.throttled} of ${x.periods} periods (${x.waitedSeconds.toFixed(1)} s waited)`).join(', ')}`);
    await Promise.all(c.groups.map((g) => g.remove()));
  }
  await c.balancer.close();
  await c.phase.close();
  await c.fake.close();
}

// ───── inbound ─────

interface InboundFigures {
  updates: number;
  replies: number;
  wallMs: number;
  /** Chats whose replies did not arrive in the order their updates were sent. */
  outOfOrder: number;
  /** Updates with no reply within the time limit, and replies beyond one per update. */
  missing: number;
  extra: number;
  refused: number;
  perWeb: number[];
  cpu: CpuSplit;
  load: string;
}

const SKU = /KB-\d{4}/;

async function inbound(c: Cluster, skus: string[], userIdBase: number): Promise<InboundFigures> {
  const users = Array.from({ length: sizes.chats }, (_, i) => c.fake.createUser({ id: userIdBase + i, firstName: `Chat${i}`, languageCode: i % 2 ? 'en' : 'ru' }));
  const chatIndex = new Map(users.map((u, i) => [String(u.id), i]));
  let got: string[][] = users.map(() => []);
  let lastAt = 0;
  let total = 0;
  let expected = 0;
  let refused = 0;
  let done: () => void = () => undefined;
  const off = c.fake.onCall((call) => {
    if (call.token !== c.token || call.method !== 'sendMessage') return;
    const i = chatIndex.get(String(call.params.chat_id));
    if (i === undefined) return;
    if (call.status !== 200) {
      refused += 1;
      return;
    }
    got[i]!.push(SKU.exec(String(call.params.text))?.[0] ?? '?');
    lastAt = performance.now();
    total += 1;
    if (total >= expected) done();
  });
  const round = async (steps: number, timeoutMs: number) => {
    got = users.map(() => []);
    total = 0;
    expected = users.length * steps;
    const all = new Promise<void>((resolve) => (done = resolve));
    const started = performance.now();
    // Step-major: every chat's first update, then every chat's second, ... (as many people chatting at once).
    for (let step = 0; step < steps; step++) {
      users.forEach((u, i) => c.fake.sendText(c.token, u.id, `/start product_${skus[(i + step) % skus.length]}`));
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    return started;
  };
  try {
    // Warm-up, not counted (JIT, query plans, connections, each guest's first sight): the same
    // amount per worker process in both configurations, so the second pair is not measured colder.
    await round(WARM_UP_UPDATES * workersOf(c), 120_000);
    const perWebBefore = [...c.balancer.forwarded];
    const { result: started, cpu } = await measureCpu(c, () => round(sizes.updates, 30_000 + sizes.updates * sizes.chats * 100));
    let outOfOrder = 0;
    let missing = 0;
    let extra = 0;
    users.forEach((_, i) => {
      const want = Array.from({ length: sizes.updates }, (_, step) => skus[(i + step) % skus.length]!);
      const have = got[i]!;
      if (have.length < want.length) missing += want.length - have.length;
      if (have.length > want.length) extra += have.length - want.length;
      if (have.some((sku, k) => sku !== want[k])) outOfOrder += 1;
    });
    return {
      updates: users.length * sizes.updates,
      replies: total,
      wallMs: lastAt - started,
      outOfOrder,
      missing,
      extra,
      refused,
      perWeb: c.balancer.forwarded.map((n, i) => n - perWebBefore[i]!),
      cpu,
      load: loadAverage(),
    };
  } finally {
    off();
  }
}

// ───── notifications ─────

interface NotificationFigures {
  count: number;
  /** Status changes accepted per second by the shop API (through the balancer). */
  intakePerSecond: number;
  delivered: number;
  /** Chats that got the message more than once. */
  twice: number;
  drainMs: number;
  /** From the queue's resume to the first message at the fake, ms. */
  firstMs: number;
  /** Messages per second from the first message at the fake to the last. */
  pacedPerSecond: number;
  peakPerSecond: number;
  tooManyRequests: number;
  otherRefusals: number;
  rowsByStatus: Record<string, number>;
  intakeCpu: CpuSplit;
  drainCpu: CpuSplit;
  load: string;
}

async function notifications(c: Cluster, count: number, userIdBase: number, pass: string): Promise<NotificationFigures> {
  const base = c.balancer.origin;
  const people = Array.from({ length: count }, (_, i) => {
    const user = c.fake.createUser({ id: userIdBase + i, firstName: `Buyer${i}`, languageCode: i % 2 ? 'en' : 'ru' });
    // +7 916 RRR NNNN: valid Russian mobiles, unique per round and pass (the database is shared by the rounds).
    const phone = `+7916${String(100 + 10 * roundNo + (pass === 'warm' ? 1 : 0)).padStart(3, '0')}${String(i).padStart(4, '0')}`;
    return { user, phone, number: `S-${roundNo}-${pass}-${i}` };
  });
  await importLinkedBuyers(c.phase.prisma, base, `bench-scale-import-${c.phase.prefix}-${pass}`, people);

  const mineChats = new Set(people.map((p) => String(p.user.id)));
  const perChat = new Map<string, number>();
  const arrivals: number[] = [];
  let tooManyRequests = 0;
  let otherRefusals = 0;
  let allArrived: () => void = () => undefined;
  const arrived = new Promise<void>((resolve) => (allArrived = resolve));
  const off = c.fake.onCall((call) => {
    if (call.token !== c.token || call.method !== 'sendMessage' || !mineChats.has(String(call.params.chat_id))) return;
    if (call.status === 429) tooManyRequests += 1;
    else if (call.status !== 200) otherRefusals += 1;
    if (call.status !== 200) return;
    const chat = String(call.params.chat_id);
    perChat.set(chat, (perChat.get(chat) ?? 0) + 1);
    arrivals.push(performance.now());
    if (perChat.size >= count) allArrived();
  });
  // The send queue is held while the shop posts, so intake and the workers' drain are measured apart.
  const sendQueue = c.phase.queues.queue(SEND_QUEUE.telegram);
  await sendQueue.pause();
  try {
    const { result: intakeMs, cpu: intakeCpu } = await measureCpu(c, async () => {
      const t0 = performance.now();
      await pool(people, sizes.shopConcurrency, async (p) => {
        await signedPost(base, `/orders/${p.number}/status`, {
          eventId: `bench-scale-ship-${p.number}`,
          status: 'shipped',
          occurredAt: new Date().toISOString(),
          carrier: 'CDEK',
          trackingNumber: `TRK${p.number}`,
          trackingUrl: `https://track.example/${p.number}`,
        });
      });
      return performance.now() - t0;
    });
    const until = Date.now() + 30_000;
    while ((await sendQueue.getJobCountByTypes('wait', 'prioritized', 'delayed')) < count && Date.now() < until) await sleep(100);
    let started = performance.now();
    const { result: drainMs, cpu: drainCpu } = await measureCpu(c, async () => {
      started = performance.now();
      await sendQueue.resume();
      let timer: NodeJS.Timeout | undefined;
      const rate = Number(c.phase.env.TELEGRAM_RATE_LIMIT);
      await Promise.race([arrived, new Promise((r) => (timer = setTimeout(r, 30_000 + (count / rate) * 3000)))]);
      clearTimeout(timer);
      return (arrivals.length ? Math.max(...arrivals) : performance.now()) - started;
    });
    // The worker records the outcome right after the send: let the last rows settle.
    const mine = { identity: { externalId: { in: [...mineChats] } } };
    for (let i = 0; i < 100 && (await c.phase.prisma.notification.count({ where: { ...mine, status: 'pending' } })) > 0; i++) await sleep(50);
    const grouped = await c.phase.prisma.notification.groupBy({ by: ['status'], where: mine, _count: true });
    return {
      count,
      intakePerSecond: count / (intakeMs / 1000),
      delivered: perChat.size,
      twice: [...perChat.values()].filter((n) => n > 1).length,
      drainMs,
      // The first message's wait after the resume (jobs taken, rendered, the pacer's first grant),
      // and the pace from the first message to the last: the limiter's own rate.
      firstMs: arrivals.length ? Math.min(...arrivals) - started : Number.NaN,
      pacedPerSecond: arrivals.length > 1 ? (arrivals.length - 1) / ((Math.max(...arrivals) - Math.min(...arrivals)) / 1000) : Number.NaN,
      peakPerSecond: peakWindow(arrivals, 1000),
      tooManyRequests,
      otherRefusals,
      rowsByStatus: Object.fromEntries(grouped.map((g) => [g.status, g._count])),
      intakeCpu,
      drainCpu,
      load: loadAverage(),
    };
  } finally {
    off();
  }
}

// ───── the run ─────

console.log(`Kabinet scale-out benchmark — ${new Date().toISOString()}`);
console.log(`Machine: ${machine()}; load average at start ${loadAverage()} (1 / 5 / 15 min)${COMBINED ? '; BENCH_SCALE_SHAPE=combined: each instance one process with both roles (src/main.ts all)' : ''}${PIN ? `; BENCH_SCALE_PIN=1: web + worker pair i on core i (1×: one core, 2×: ${Math.min(2, CORES)})` : ''}${CPU_QUOTA !== undefined ? `; BENCH_SCALE_CPU_QUOTA=${CPU_QUOTA}: each instance (web + worker) limited to ${CPU_QUOTA} of a core (1×: ${CPU_QUOTA} core, 2×: ${2 * CPU_QUOTA})` : ''}${BALANCER === 'tcp' ? '; BENCH_SCALE_BALANCER=tcp: connections relayed round robin (L4)' : ''}${API_LATENCY_MS ? `; Bot API round trip ${API_LATENCY_MS} ms (BENCH_SCALE_API_LATENCY_MS)` : ''}`);
console.log(`Sizes: inbound ${sizes.chats} chats × ${sizes.updates} updates; ${sizes.notifications} notifications (caps off), ${sizes.capped} (caps on); shop concurrency ${sizes.shopConcurrency}\n`);

log(`removed ${await deleteBenchKeys()} Redis keys of earlier runs`);
const db = await freshDatabase();
log(`database ${DATABASE_NAME}: migrated and seeded (${db.seeded.products} products)`);

const CONFIGS = [1, 2] as const;
const high = new Map<number, { inbound: InboundFigures; notifications: NotificationFigures }>();
const capped = new Map<number, NotificationFigures>();
let skus: string[] = [];
const idleRows: string[][] = [['D. idle CPU (5 s after start-up, nothing to do)', 'per web', 'per worker', 'bench process']];
const pct = (share: number) => `${(share * 100).toFixed(1)}% of a core`;
const noteIdle = (c: Cluster) => idleRows.push([c.label, pct(c.idle.webs), pct(c.idle.workers), pct(c.idle.bench)]);

for (const n of PARTS.has('high') ? CONFIGS : []) {
  log(`${name(n)}, caps off (TELEGRAM_RATE_LIMIT=1000): starting`);
  const c = await startCluster(n, false);
  noteIdle(c);
  try {
    if (skus.length === 0) skus = (await c.phase.prisma.product.findMany({ select: { sku: true }, orderBy: { sku: 'asc' }, take: 20 })).map((p) => p.sku);
    log(`${c.label}: inbound`);
    const inb = await inbound(c, skus, 900_000_000 + roundNo * 1_000_000);
    log(`${c.label}: notifications`);
    await notifications(c, WARM_UP_CHANGES * n, 900_900_000 + roundNo * 1_000_000, 'warm');
    const nt = await notifications(c, sizes.notifications, 900_500_000 + roundNo * 1_000_000, 'run');
    high.set(n, { inbound: inb, notifications: nt });
  } finally {
    await stopCluster(c);
  }
}
for (const n of PARTS.has('capped') ? CONFIGS : []) {
  log(`${name(n)}, the fake's caps on (TELEGRAM_RATE_LIMIT=${TELEGRAM_CAP}): starting`);
  const c = await startCluster(n, true);
  noteIdle(c);
  try {
    log(`${c.label}: notifications`);
    await notifications(c, WARM_UP_CHANGES_CAPPED * n, 900_900_000 + roundNo * 1_000_000, 'warm');
    capped.set(n, await notifications(c, sizes.capped, 900_500_000 + roundNo * 1_000_000, 'run'));
  } finally {
    await stopCluster(c);
  }
}
await dropDatabase();
log(`done; database ${DATABASE_NAME} dropped\n`);

// ───── figures ─────
const cpu = (x: CpuSplit) => `${x.webs.toFixed(1)} / ${x.workers.toFixed(1)} / ${x.bench.toFixed(1)}`;
/** Kabinet's own CPU (webs + workers, not the bench process) per unit of work. */
const perOp = (x: CpuSplit, n: number) => `${(((x.webs + x.workers) * 1000) / Math.max(1, n)).toFixed(1)} ms`;

if (high.size > 0) {
  const rowsIn: string[][] = [['A. inbound (caps off)', 'updates', 'replied', 'wall', 'updates/s', 'out of order', 'missing', 'extra', 'refused', 'per web', 'CPU s web/worker/bench', 'Kabinet CPU per update', 'load after']];
  for (const n of CONFIGS) {
    const f = high.get(n)!.inbound;
    rowsIn.push([name(n), String(f.updates), String(f.replies), `${(f.wallMs / 1000).toFixed(2)} s`, rate(f.updates / (f.wallMs / 1000)), `${f.outOfOrder} chats`, String(f.missing), String(f.extra), String(f.refused), f.perWeb.join(' + '), cpu(f.cpu), perOp(f.cpu, f.updates), f.load]);
}
console.log(table(rowsIn));
console.log(`${sizes.chats} chats, ${sizes.updates} updates each queued at the fake at once (/start product_<sku>, a different product per step), delivered as Telegram does (one per chat in flight, ≤40 connections) through a round-robin balancer; updates/s from the first update queued to the last reply at the fake. "out of order": chats whose replies (each names its product) did not arrive in the order sent.\n`);

const rowsNt: string[][] = [['B. notifications (caps off, limit 1000)', 'changes', 'shop API', 'delivered', 'twice', 'drain', 'messages/s', 'peak in 1 s', 'refused', 'CPU s intake', 'per change', 'CPU s drain', 'per message', 'rows', 'load after']];
for (const n of CONFIGS) {
  const f = high.get(n)!.notifications;
  rowsNt.push([name(n), String(f.count), rate(f.intakePerSecond, ' req/s'), `${f.delivered}/${f.count}`, String(f.twice), `${(f.drainMs / 1000).toFixed(2)} s`, rate(f.delivered / (f.drainMs / 1000)), String(f.peakPerSecond), String(f.tooManyRequests + f.otherRefusals), cpu(f.intakeCpu), perOp(f.intakeCpu, f.count), cpu(f.drainCpu), perOp(f.drainCpu, f.delivered), JSON.stringify(f.rowsByStatus), f.load]);
}
console.log(table(rowsNt));
console.log(`The shop posts ${sizes.notifications} signed status changes (${sizes.shopConcurrency} at once, through the balancer) with the send queue paused: "shop API" is changes accepted per second. Then the queue is resumed: "messages/s" from resume to the last message at the fake. CPU s: web processes / worker processes / bench process (fake Telegram and balancer).\n`);
}

if (capped.size > 0) {
  const rowsCap: string[][] = [[`C. notifications (the fake's caps on, ${TELEGRAM_CAP}/s)`, 'changes', 'delivered', 'twice', 'drain', 'messages/s', 'of cap', 'first message', 'first → last', 'of cap', 'peak in 1 s', '429s', 'other refusals', 'rows', 'load after']];
  for (const n of CONFIGS) {
    const f = capped.get(n)!;
    const perSecond = f.delivered / (f.drainMs / 1000);
    const ofCap = (r: number) => `${((100 * r) / TELEGRAM_CAP).toFixed(1)}%`;
    rowsCap.push([name(n), String(f.count), `${f.delivered}/${f.count}`, String(f.twice), `${(f.drainMs / 1000).toFixed(2)} s`, rate(perSecond), ofCap(perSecond), `${f.firstMs.toFixed(0)} ms`, rate(f.pacedPerSecond), ofCap(f.pacedPerSecond), `${f.peakPerSecond} (cap ${TELEGRAM_CAP})`, String(f.tooManyRequests), String(f.otherRefusals), JSON.stringify(f.rowsByStatus), f.load]);
}
console.log(table(rowsCap));
console.log(`"messages/s": from the queue's resume to the last message; "first message": the resume to the first one at the fake (jobs taken, rendered, the pacer's first grant); "first → last": the pace between the first message and the last, the limiter's own rate. "peak in 1 s": the most messages the fake accepted in any sliding second, summed over every worker process. The fake answers 429 above ${TELEGRAM_CAP}/s (burst ${TELEGRAM_CAP}).\n`);
}

const one = (n: number) => high.get(n)!;
const rowsSum: string[][] = [['2× / 1×', name(1), COMBINED ? name(2) : '2 webs + 2 workers', 'ratio']];
const addSum = (label: string, a: number, b: number, unit: string) => rowsSum.push([label, rate(a, unit), rate(b, unit), ratio(b, a)]);
if (high.size > 0) {
    addSum('inbound updates/s', one(1).inbound.updates / (one(1).inbound.wallMs / 1000), one(2).inbound.updates / (one(2).inbound.wallMs / 1000), '/s');
    addSum('shop API status changes/s', one(1).notifications.intakePerSecond, one(2).notifications.intakePerSecond, '/s');
    addSum('send drain, caps off', one(1).notifications.delivered / (one(1).notifications.drainMs / 1000), one(2).notifications.delivered / (one(2).notifications.drainMs / 1000), '/s');
}
if (capped.size > 0) addSum(`send drain, cap ${TELEGRAM_CAP}/s`, capped.get(1)!.delivered / (capped.get(1)!.drainMs / 1000), capped.get(2)!.delivered / (capped.get(2)!.drainMs / 1000), '/s');
console.log(table(rowsSum));
console.log('');
console.log(table(idleRows));
const violations = [...high.values()].reduce((sum, f) => sum + f.inbound.outOfOrder, 0);
if (high.size > 0) console.log(`Per-chat order: ${violations === 0 ? 'held in every chat' : `${violations} chats out of order`}.`);
for (const [n, f] of capped) {
  const ok = f.peakPerSecond <= TELEGRAM_CAP && f.tooManyRequests === 0;
  console.log(`Telegram cap summed over ${n} worker(s): ${ok ? `never above ${TELEGRAM_CAP} in any sliding second, zero 429` : `EXCEEDED: ${f.peakPerSecond} in one sliding second, ${f.tooManyRequests} × 429`}.`);
}
console.log(`Load average at the end ${loadAverage()}. Total ${((performance.now() - began) / 1000).toFixed(1)} s.`);
process.exit(0);
