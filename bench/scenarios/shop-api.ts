/**
 * Benchmark 6: the shop API under a shop's load (issue 13), every subject in its own process.
 *
 * a. Closed loop: signed status changes (`POST /api/v1/orders/:number/status`, Kabinet-Signature
 *    over "<t>.<METHOD>.<path>.<raw body>") sent by 16 and 32 clients at once, each sending the
 *    next when its answer arrived, for a fixed time. Subjects, alternating:
 *    - baseline: a bare Fastify route at the same path (lib/shop-baseline-process.ts) that does
 *      the same signature check and one INSERT through node-postgres;
 *    - Kabinet: `src/main.ts web` as production starts it (NODE_ENV=production), on the bench
 *      database, every order with a customer linked to a Telegram chat, so each change writes
 *      its status event, moves the order, writes a Notification row and queues its send job.
 *    Figure: changes answered 200 per second, and Kabinet's as a ratio of the baseline's.
 * b. Open loop: changes offered at a fixed rate (50/s for 10 s), each to another order and chat,
 *    whatever the answers do, with `src/main.ts worker` running beside a fresh web process:
 *    latency from the moment a change was due to be sent to its message answered by the fake
 *    Telegram Bot API (lib: src/fakes/telegram, in this process). TELEGRAM_RATE_LIMIT=1000
 *    there (a steady 50/s is above the free 30/s cap), the fake's limits off.
 *
 * The load average (1 min) is recorded with every row: on a shared machine the figures are
 * slower than on a quiet one, the baseline's too.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createFakeTelegram } from '../../src/fakes/telegram/index.js';
import { signRequest } from '../../src/lib/signature.js';
import { QueueName } from '../../src/queues/names.js';
import { keepAliveClient, type Answer } from '../lib/http-client.js';
import { databaseUrl, freePort, phaseEnv, REDIS_URL, SHOP_SECRET } from '../lib/setup.js';
import { ms, rate, ratio, summarize, table, type Summary } from '../lib/stats.js';

const TOKEN = '7100013:AAbench-kabinet-shop-api-e2e';
const WEBHOOK_SECRET = 'bench-shop-webhook-secret_1';
/** Statuses the closed loop cycles through: each pass over the orders moves every order on (and notifies). */
const CYCLE = ['assembling', 'shipped', 'ready_for_pickup', 'confirmed'] as const;

export interface ShopApiOptions {
  /** Seconds measured per closed-loop row (after a WARM_SECONDS warm-up that is not counted). */
  seconds: number;
  concurrency: number[];
  /** Orders the closed loop spreads its changes over. */
  orders: number;
  /** Open loop: changes per second and for how long. */
  e2eRate: number;
  e2eSeconds: number;
}

export interface ThroughputRow {
  subject: 'baseline' | 'Kabinet';
  concurrency: number;
  accepted: number;
  refused: Map<string, number>;
  wallMs: number;
  latency: Summary;
  /** CPU ms the subject's process spent per accepted change (from /proc). */
  cpuPerRequestMs: number;
  load: [number, number];
}

export interface EndToEnd {
  rate: number;
  seconds: number;
  sent: number;
  answered: number;
  refused: Map<string, number>;
  delivered: number;
  /** Due time → answer of the POST. */
  answer: Summary;
  /** Due time → the message answered by the fake Bot API. */
  message: Summary;
  /** How late the sender fired after the due time (the bench's own scheduling). */
  sendLagMax: number;
  /** CPU ms per change of the web process and per message of the worker process (from /proc). */
  webCpuMs: number;
  workerCpuMs: number;
  load: [number, number];
}

export interface ShopApiFigures {
  options: ShopApiOptions;
  rows: ThroughputRow[];
  e2e: EndToEnd;
}

// ───── child processes ─────

const children = new Set<ChildProcess>();
/** For the watchdog: ends every child this scenario started. */
export function killShopBenchChildren(): void {
  for (const child of children) child.kill('SIGKILL');
}

const profArgs = () => (process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []);

/** `src/main.ts <role>` as production runs it (its own process, environment only). */
function startKabinet(role: 'web' | 'worker', env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', ...profArgs(), 'src/main.ts', role], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function startBaseline(): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(new URL('../lib/shop-baseline-process.ts', import.meta.url).pathname, [databaseUrl(), SHOP_SECRET], {
    execArgv: ['--import', 'tsx', ...profArgs()],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`baseline process exited (${code}) before it was ready`)));
    child.on('message', (m: { type: string; url?: string }) => {
      if (m.type === 'ready') resolve({ child, url: m.url! });
    });
  });
}

async function stopChild(child: ChildProcess, graceMs = 20_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  if (child.connected) child.send({ type: 'stop' });
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`shop bench: ${what} not ready within ${timeoutMs / 1000} s`);
}

/** user + system CPU of a process so far, ms (Linux /proc; NaN elsewhere). */
function cpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

// ───── HTTP client ─────

/** Signed POSTs over keep-alive connections (node:http: cheaper per request than fetch). */
function shopClient(origin: string, sockets: number) {
  const client = keepAliveClient(origin, sockets);
  return {
    post: (path: string, payload: unknown): Promise<Answer> => client.post(path, payload, (body) => ({ 'kabinet-signature': signRequest(SHOP_SECRET, { method: 'POST', path, body }) })),
    close: client.close,
  };
}

type Client = ReturnType<typeof shopClient>;

// ───── fixtures ─────

/**
 * `count` customers, each with one order (status paid) and one linked Telegram chat
 * (user id `userBase + i`), written in SQL: the login flow and imports are other benchmarks'.
 */
async function createFixtures(db: pg.Client, tag: string, count: number, userBase: number): Promise<string[]> {
  await db.query(
    `WITH c AS (
       INSERT INTO customers (id, phone, language, "updatedAt")
       SELECT gen_random_uuid(), '+79' || $2::text || lpad(g::text, 7, '0'), CASE WHEN g % 2 = 0 THEN 'ru' ELSE 'en' END, now()
       FROM generate_series(0, $1::int - 1) g
       RETURNING id, phone
     ), o AS (
       INSERT INTO orders (id, number, "customerId", status, "itemsTotal", total, "placedAt", "updatedAt")
       SELECT gen_random_uuid(), $3::text || (right(c.phone, 7)::int), c.id, 'paid', 2500, 2500, now(), now() FROM c
     )
     INSERT INTO channel_identities (id, platform, "externalId", "chatId", "customerId", "linkedAt", "languageCode", "updatedAt")
     SELECT gen_random_uuid(), 'telegram', ($4::bigint + right(c.phone, 7)::int)::text, ($4::bigint + right(c.phone, 7)::int)::text, c.id, now(), 'ru', now() FROM c`,
    [count, tag === 'tp' ? '10' : '20', `S${tag.toUpperCase()}-`, userBase],
  );
  return Array.from({ length: count }, (_, i) => `S${tag.toUpperCase()}-${i}`);
}

// ───── closed loop ─────

let seq = 0;
/** The next change: orders in turn, each pass a new status, times increasing (so every change is current and notifies). */
function nextChange(numbers: string[]) {
  const n = seq++;
  const number = numbers[n % numbers.length]!;
  return {
    path: `/api/v1/orders/${number}/status`,
    body: {
      eventId: `bench-tp-${n}`,
      status: CYCLE[Math.floor(n / numbers.length) % CYCLE.length]!,
      occurredAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
      carrier: 'CDEK',
      trackingNumber: `TRK${n}`,
      trackingUrl: `https://track.example/${number}`,
    },
  };
}

async function closedLoop(client: Client, concurrency: number, seconds: number, numbers: string[]) {
  const latencies: number[] = [];
  const refused = new Map<string, number>();
  let accepted = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const change = nextChange(numbers);
        const t0 = performance.now();
        const answer = await client.post(change.path, change.body).catch((err: Error) => ({ status: 0, body: err.message }));
        latencies.push(performance.now() - t0);
        if (answer.status === 200) accepted++;
        else {
          const key = `${answer.status} ${answer.body.slice(0, 80)}`;
          refused.set(key, (refused.get(key) ?? 0) + 1);
        }
      }
    }),
  );
  return { accepted, refused, wallMs: performance.now() - started, latency: summarize(latencies) };
}

/**
 * Warm-up per closed-loop row, not counted: JIT and pool connections. 3 s since the sixth session
 * of 2026-12-07: after 1 s (~300 changes) Kabinet's first row still ran code V8 had not optimised
 * (2.2 ms of CPU per change at 16 clients against 1.1 ms at 32 in the same run).
 */
const WARM_SECONDS = 3;

async function measure(subject: ThroughputRow['subject'], pid: number | undefined, client: Client, concurrency: number, seconds: number, numbers: string[]): Promise<ThroughputRow> {
  await closedLoop(client, concurrency, WARM_SECONDS, numbers);
  const load0 = loadavg()[0]!;
  const cpu0 = cpuMs(pid);
  const r = await closedLoop(client, concurrency, seconds, numbers);
  const cpu = cpuMs(pid) - cpu0;
  return { subject, concurrency, ...r, cpuPerRequestMs: cpu / Math.max(1, r.accepted), load: [load0, loadavg()[0]!] };
}

// ───── the run ─────

export async function runShopApiBenchmark(options: ShopApiOptions, log: (line: string) => void = console.log): Promise<ShopApiFigures> {
  const db = new pg.Client({ connectionString: databaseUrl() });
  await db.connect();
  const fake = createFakeTelegram({ rateLimits: false, requireStart: false, recordCalls: false });
  const apiRoot = await fake.listen();
  fake.createBot({ token: TOKEN, username: 'bench_shop_api_bot' });
  const phases: Array<ReturnType<typeof phaseEnv>> = [];
  const started: ChildProcess[] = [];
  try {
    const e2eCount = options.e2eRate * options.e2eSeconds;
    const warmCount = options.e2eRate * 2;
    const numbers = await createFixtures(db, 'tp', options.orders, 700_000_000);
    const e2eNumbers = await createFixtures(db, 'ee', e2eCount + warmCount, 710_000_000);
    for (let i = 0; i < e2eCount + warmCount; i++) fake.createUser({ id: 710_000_000 + i, firstName: `Shopper${i}`, languageCode: i % 2 ? 'en' : 'ru' });
    log(`6. shop API: ${options.orders} + ${e2eCount + warmCount} orders with linked Telegram chats written`);

    // a. closed loop
    const baseline = await startBaseline();
    started.push(baseline.child);
    const tpPort = await freePort();
    const tp = phaseEnv('shop-tp', { HOST: '127.0.0.1', PORT: String(tpPort) });
    phases.push(tp);
    const web = startKabinet('web', tp.env);
    started.push(web);
    const webOrigin = `http://127.0.0.1:${tpPort}`;
    await waitFor('Kabinet web', async () => (await fetch(`${webOrigin}/health`)).status === 200);
    const rows: ThroughputRow[] = [];
    for (const concurrency of options.concurrency) {
      for (const [subject, origin, pid] of [['baseline', baseline.url, baseline.child.pid], ['Kabinet', webOrigin, web.pid]] as const) {
        const client = shopClient(origin, concurrency);
        log(`6a. ${subject}, ${concurrency} at once, ${options.seconds} s (load average ${loadavg()[0]!.toFixed(2)})`);
        rows.push(await measure(subject, pid, client, concurrency, options.seconds, numbers));
        client.close();
      }
    }
    await stopChild(baseline.child);
    await stopChild(web);

    // b. open loop with the worker
    const port = await freePort();
    const e2e = phaseEnv('shop-e2e', {
      HOST: '127.0.0.1',
      PORT: String(port),
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: apiRoot,
      TELEGRAM_WEBHOOK_URL: `http://127.0.0.1:${port}`,
      TELEGRAM_WEBHOOK_SECRET: WEBHOOK_SECRET,
      TELEGRAM_RATE_LIMIT: '1000',
    });
    phases.push(e2e);
    const e2eWeb = startKabinet('web', e2e.env);
    const worker = startKabinet('worker', { ...e2e.env, PORT: '0' });
    started.push(e2eWeb, worker);
    const origin = `http://127.0.0.1:${port}`;
    await waitFor('Kabinet web (e2e)', async () => (await fetch(`${origin}/health`)).status === 200);
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const sendQueue = new Queue(QueueName.sendTelegram, { connection: redis, prefix: e2e.env.QUEUE_PREFIX });
    await waitFor('Kabinet worker', async () => (await sendQueue.getWorkersCount()) > 0);
    await sendQueue.close();
    await redis.quit();
    log(`6b. open loop: ${options.e2eRate}/s for ${options.e2eSeconds} s, worker running (load average ${loadavg()[0]!.toFixed(2)})`);
    const figures = await openLoop(fake, shopClient(origin, 64), e2eNumbers, options, warmCount, [e2eWeb.pid, worker.pid]);
    await stopChild(e2eWeb);
    await stopChild(worker);
    return { options, rows, e2e: figures };
  } finally {
    await Promise.all(started.map((c) => stopChild(c, 5_000)));
    for (const p of phases) await p.deleteKeys();
    await fake.close();
    await db.end();
  }
}

async function openLoop(fake: ReturnType<typeof createFakeTelegram>, client: Client, numbers: string[], options: ShopApiOptions, warmCount: number, [webPid, workerPid]: Array<number | undefined>): Promise<EndToEnd> {
  const chatOf = (i: number) => String(710_000_000 + Number(numbers[i]!.split('-')[1]));
  const dueAt = new Map<string, number>();
  const arrived = new Map<string, number>();
  let expected = 0;
  let allArrived: () => void = () => undefined;
  const off = fake.onCall((call) => {
    if (call.token !== TOKEN || call.method !== 'sendMessage' || call.status !== 200) return;
    const chat = String(call.params.chat_id);
    if (!arrived.has(chat)) arrived.set(chat, performance.now());
    if (arrived.size >= expected) allArrived();
  });
  const answers: number[] = [];
  const refused = new Map<string, number>();
  let answered = 0;
  let sendLagMax = 0;
  const offer = async (from: number, to: number, record: boolean) => {
    const gap = 1000 / options.e2eRate;
    const t0 = performance.now() + 20;
    const inFlight: Array<Promise<void>> = [];
    for (let i = from; i < to; i++) {
      const due = t0 + (i - from) * gap;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (record) sendLagMax = Math.max(sendLagMax, performance.now() - due);
      const number = numbers[i]!;
      dueAt.set(chatOf(i), due);
      inFlight.push(
        client.post(`/api/v1/orders/${number}/status`, { eventId: `bench-e2e-${number}`, status: 'shipped', occurredAt: new Date().toISOString(), carrier: 'CDEK', trackingNumber: `TRK-${number}`, trackingUrl: `https://track.example/${number}` })
          .then((a) => {
            if (!record) return;
            answers.push(performance.now() - due);
            if (a.status === 200) answered++;
            else refused.set(`${a.status} ${a.body.slice(0, 80)}`, (refused.get(`${a.status} ${a.body.slice(0, 80)}`) ?? 0) + 1);
          })
          .catch((err: Error) => void (record && refused.set(`network ${err.message}`, (refused.get(`network ${err.message}`) ?? 0) + 1))),
      );
    }
    await Promise.all(inFlight);
  };
  try {
    // Warm-up at the same rate for 2 s on orders of its own (JIT, connections), then a pause.
    expected = warmCount;
    await offer(0, warmCount, false);
    await Promise.race([new Promise<void>((r) => (allArrived = r)), new Promise((r) => setTimeout(r, 10_000))]);
    await new Promise((r) => setTimeout(r, 500));
    const load0 = loadavg()[0]!;
    const cpu0 = [cpuMs(webPid), cpuMs(workerPid)];
    expected = numbers.length;
    const all = new Promise<void>((r) => (allArrived = r));
    await offer(warmCount, numbers.length, true);
    await Promise.race([all, new Promise((r) => setTimeout(r, 30_000))]);
    const cpu = [cpuMs(webPid) - cpu0[0]!, cpuMs(workerPid) - cpu0[1]!];
    const latencies: number[] = [];
    for (let i = warmCount; i < numbers.length; i++) {
      const chat = chatOf(i);
      const at = arrived.get(chat);
      if (at !== undefined) latencies.push(at - dueAt.get(chat)!);
    }
    return {
      rate: options.e2eRate,
      seconds: options.e2eSeconds,
      sent: numbers.length - warmCount,
      answered,
      refused,
      delivered: latencies.length,
      answer: summarize(answers),
      message: summarize(latencies),
      sendLagMax,
      webCpuMs: cpu[0]! / Math.max(1, answered),
      workerCpuMs: cpu[1]! / Math.max(1, latencies.length),
      load: [load0, loadavg()[0]!],
    };
  } finally {
    off();
    client.close();
  }
}

// ───── figures ─────

const load = (l: [number, number]) => `${l[0].toFixed(2)} → ${l[1].toFixed(2)}`;

export function printShopApiFigures(f: ShopApiFigures): string {
  const rows: string[][] = [['6. shop API (closed loop)', 'at once', 'accepted', 'accepted/s', 'vs baseline', 'p50', 'p99', 'CPU/change', 'refused', 'load avg']];
  for (const r of f.rows) {
    const perSecond = r.accepted / (r.wallMs / 1000);
    const base = f.rows.find((b) => b.subject === 'baseline' && b.concurrency === r.concurrency)!;
    const basePerSecond = base.accepted / (base.wallMs / 1000);
    const refused = [...r.refused.values()].reduce((a, b) => a + b, 0);
    rows.push([r.subject === 'baseline' ? 'bare Fastify + HMAC + 1 INSERT' : "Kabinet's shop API (web role)", String(r.concurrency), String(r.accepted), rate(perSecond), r === base ? 'baseline' : ratio(perSecond, basePerSecond), ms(r.latency.p50), ms(r.latency.p99), ms(r.cpuPerRequestMs), String(refused), load(r.load)]);
  }
  const lines = [table(rows)];
  for (const r of f.rows) for (const [k, v] of r.refused) lines.push(`  refused (${r.subject}, ${r.concurrency}): ${v} × ${k}`);
  lines.push(`POST /api/v1/orders/:number/status, signed; each client sends its next change when the answer came; ${f.options.seconds} s per row after ${WARM_SECONDS} s of warm-up; ${f.options.orders} orders, each change a new status of one (status event, order, Notification row, send job). CPU/change: the subject process's own CPU (PostgreSQL and Redis not included).`);
  const e = f.e2e;
  const e2eRows: string[][] = [[`6b. status → message (open loop)`, 'offered', 'answered 200', 'messages', 'answer p50', 'p99', 'message p50', 'p95', 'p99', 'max', 'CPU web/worker', 'load avg']];
  e2eRows.push([`${e.rate}/s for ${e.seconds} s, worker running`, String(e.sent), String(e.answered), `${e.delivered}/${e.sent}`, ms(e.answer.p50), ms(e.answer.p99), ms(e.message.p50), ms(e.message.p95), ms(e.message.p99), ms(e.message.max), `${ms(e.webCpuMs)} / ${ms(e.workerCpuMs)}`, load(e.load)]);
  lines.push('', table(e2eRows));
  for (const [k, v] of e.refused) lines.push(`  refused: ${v} × ${k}`);
  lines.push(`Each change to another order and chat, sent when due whatever the answers do (latencies from the due time; the bench fired at most ${ms(e.sendLagMax)} late). Message: answered by the fake Bot API. web and worker: \`src/main.ts web\` and \`src/main.ts worker\`, TELEGRAM_RATE_LIMIT=1000, fake limits off; 2 s of warm-up at the same rate not counted. CPU: each process's own per change (web) and per message (worker).`);
  return lines.join('\n');
}

const positive = (name: string, fallback: number) => {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive whole number`);
  return n;
};

/** Sizes from BENCH_SHOP_* (see bench/README.md). */
export function shopApiOptionsFromEnv(): ShopApiOptions {
  return {
    seconds: positive('BENCH_SHOP_SECONDS', 5),
    concurrency: (process.env.BENCH_SHOP_CONCURRENCY ?? '16,32').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0),
    orders: positive('BENCH_SHOP_ORDERS', 2000),
    e2eRate: positive('BENCH_SHOP_E2E_RATE', 50),
    e2eSeconds: positive('BENCH_SHOP_E2E_SECONDS', 10),
  };
}
