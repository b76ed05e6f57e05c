/**
 * One fault drill, end to end: its own servers and database, Kabinet's web and worker roles as
 * production child processes, the fake Telegram delivering webhooks through a load balancer
 * (this process), inbound traffic and a notification burst, the fault in the middle, and the
 * checks afterwards. Loopback only; every wait is bounded.
 */
import { performance } from 'node:perf_hooks';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createFakeTelegram, type FakeTelegram } from '../../src/fakes/telegram/index.js';
import { ensureDatabase, migrate } from '../../src/infra/migrator.js';
import { createPrisma } from '../../src/infra/prisma.js';
import { signRequest } from '../../src/lib/signature.js';
import { freePort } from '../lib/setup.js';
import { startKabinet, tally, type KabinetProcess, type LogTally } from './kabinet.js';
import { startOwnPostgres, startOwnRedis, type OwnServer } from './servers.js';
import { judgeChat, percentile, sendInbound, sendStatusChanges, SHOP_SECRET, classify, inboundUser, type InboundPlan, type Reply, type SentUpdate, type ShopResult } from './traffic.js';

export type DrillKind = 'redis' | 'postgres' | 'web-kill';

const TOKEN = '7200013:AAdrill-kabinet-customer-bot';
const WEBHOOK_SECRET = 'drill-webhook-secret_1';
const INBOUND_USERS = 930_000_000;
const NOTIFY_USERS = 940_000_000;
const RUN = process.env.BENCH_RUN && /^[a-z0-9_]{1,20}$/.test(process.env.BENCH_RUN) ? process.env.BENCH_RUN : 'default';

export interface DrillSettings {
  /** When the fault starts, from the start of traffic. */
  faultAtMs: number;
  /** How long the dependency (or the killed web process) stays down. */
  downMs: number;
  inbound: InboundPlan;
  /** Status changes (one per customer) and their rate. */
  orders: number;
  orderRate: number;
  /** Longest wait for everything to be answered and sent after traffic ends. */
  settleMs: number;
  /** false: the same run without the fault (a control run). */
  fault: boolean;
  /** The drill's redis-server fsync policy (production's choice; README "Redis in production"). */
  appendfsync: 'always' | 'everysec';
}

export const DEFAULT_SETTINGS: DrillSettings = {
  faultAtMs: 8_000,
  downMs: 5_000,
  inbound: { chats: 40, rate: 25, durationMs: 25_000, loginEvery: 4 },
  orders: 150,
  orderRate: 10,
  settleMs: 90_000,
  fault: true,
  appendfsync: 'everysec',
};

interface HealthSample {
  at: number;
  web: string;
  status: number | 'none';
  ms: number;
  redis?: string;
  postgres?: string;
}

interface WebhookAnswer {
  at: number;
  status: string;
  ms: number;
}

export interface DrillResult {
  kind: DrillKind;
  fault: string;
  settings: DrillSettings;
  /** performance.now() marks relative to the traffic start. */
  faultAt: number;
  upAt: number;
  /** Inbound. */
  updatesSent: number;
  answered: number;
  lost: number;
  duplicates: number;
  outOfOrder: number;
  unclassified: number;
  latency: Record<'before' | 'during' | 'after', { n: number; p50: number; p99: number; max: number }>;
  webhookAnswers: Record<'before' | 'during' | 'after', Map<string, number>>;
  fakeDelivery: { delivered: number; failedAttempts: number; pending: number; lastError: string | undefined };
  loggedIn: { expected: number; linked: number };
  /** Notifications. */
  notifications: { expected: number; once: number; missing: number; twice: number; rows: Record<string, number> };
  shop: ShopResult;
  /** Health. */
  healthDuring: { polls: number; reportedDown: number; answered503: number; noAnswer: number };
  healthOkAfterMs: number | undefined;
  /** First 2xx webhook answer after the fault ended, ms after it ended. */
  webhookOkAfterMs: number | undefined;
  drainedAfterMs: number | undefined;
  exits: string[];
  log: LogTally;
  failures: string[];
  notes: string[];
}

/** A load balancer: round robin over the live web processes; a refused connection goes to the next one (as nginx's proxy_next_upstream error), a request cut mid-way answers 502. */
function startBalancer(backends: () => number[], record: (a: WebhookAnswer) => void, t0: () => number) {
  let turn = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const started = performance.now();
      const body = Buffer.concat(chunks);
      const ports = backends();
      let answered = false;
      for (let tries = 0; tries < Math.max(1, ports.length) && !answered; tries++) {
        const port = ports[turn++ % Math.max(1, ports.length)];
        if (port === undefined) break;
        try {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k)) headers[k] = v;
          const upstream = await fetch(`http://127.0.0.1:${port}${req.url}`, { method: req.method, headers, body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body, signal: AbortSignal.timeout(20_000) });
          const text = Buffer.from(await upstream.arrayBuffer());
          const out: Record<string, string> = {};
          upstream.headers.forEach((v, k) => {
            if (!['content-length', 'transfer-encoding', 'connection', 'keep-alive'].includes(k)) out[k] = v;
          });
          res.writeHead(upstream.status, out).end(text);
          if (req.url?.startsWith('/telegram/webhook')) record({ at: started - t0(), status: String(upstream.status), ms: performance.now() - started });
          answered = true;
        } catch (err) {
          const code = (err as { cause?: { code?: string } }).cause?.code;
          if (code === 'ECONNREFUSED') continue;
          break;
        }
      }
      if (!answered) {
        res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway');
        if (req.url?.startsWith('/telegram/webhook')) record({ at: started - t0(), status: '502', ms: performance.now() - started });
      }
    });
  });
  return new Promise<{ url: string; close(): Promise<void> }>((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () => {
          server.closeAllConnections();
          return new Promise((r) => server.close(() => r()));
        },
      });
    }),
  );
}

async function signedPost(base: string, path: string, payload: unknown): Promise<void> {
  const body = JSON.stringify(payload);
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'kabinet-signature': signRequest(SHOP_SECRET, { method: 'POST', path, body }) }, body });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`shop API ${path}: ${res.status} ${text.slice(0, 300)}`);
}

const phoneOf = (base: number) => (i: number) => `+7916${String(base + i).padStart(7, '0')}`;
const inboundPhone = phoneOf(1_000_000);
const notifyPhone = phoneOf(2_000_000);

export async function runDrill(kind: DrillKind, settings: DrillSettings = DEFAULT_SETTINGS, say: (line: string) => void = () => undefined): Promise<DrillResult> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const log = tally();
  const procs: KabinetProcess[] = [];
  try {
    // ── servers ──
    const redis = await startOwnRedis(await freePort(), { appendfsync: settings.appendfsync });
    cleanups.push(() => redis.destroy());
    // Its own PostgreSQL too, in every drill: the shared one's load and connection limit (other
    // runs on the machine) would be measured instead of Kabinet.
    const postgres: OwnServer = await startOwnPostgres(await freePort());
    cleanups.push(() => postgres.destroy());
    const pgAdmin = postgres.url;
    const dbName = `kabinet_drill_${RUN}`;
    const dbUrl = new URL(pgAdmin);
    dbUrl.pathname = `/${dbName}`;
    const admin = async (sql: string) => {
      const c = new pg.Client({ connectionString: pgAdmin });
      await c.connect();
      try {
        await c.query(sql);
      } finally {
        await c.end();
      }
    };
    await admin(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    cleanups.push(() => admin(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch(() => undefined));
    await ensureDatabase(dbUrl.toString());
    await migrate(dbUrl.toString(), 'prisma/migrations');
    say(`  servers: redis :${redis.port} (appendonly yes, appendfsync ${settings.appendfsync}), postgres :${postgres.port} (own cluster); database ${dbName}`);

    // ── fake Telegram and the balancer ──
    const fake: FakeTelegram = createFakeTelegram({ rateLimits: false, requireStart: false, recordCalls: false, webhookRetry: { baseDelayMs: 200, maxDelayMs: 2_000, maxAttempts: 200, timeoutMs: 15_000 } });
    const apiRoot = await fake.listen();
    cleanups.push(() => fake.close());
    fake.createBot({ token: TOKEN, username: 'kabinet_drill_bot', firstName: 'Kabinet' });
    let t0 = performance.now();
    const now = () => performance.now() - t0;
    const answers: WebhookAnswer[] = [];
    const webs = new Map<string, KabinetProcess>();
    const balancer = await startBalancer(() => [...webs.values()].filter((w) => w.alive).map((w) => w.port!), (a) => answers.push(a), () => t0);
    cleanups.push(() => balancer.close());

    // ── Kabinet ──
    const env = (port?: number): Record<string, string> => ({
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      ...(port ? { PORT: String(port) } : {}),
      DATABASE_URL: dbUrl.toString(),
      REDIS_URL: redis.url,
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: apiRoot,
      TELEGRAM_WEBHOOK_URL: `${balancer.url}/telegram/webhook`,
      TELEGRAM_WEBHOOK_SECRET: WEBHOOK_SECRET,
      TELEGRAM_RATE_LIMIT: '1000',
      SHOP_API_SECRET: SHOP_SECRET,
      OTP_SECRET: 'drill-otp-secret-0123456789abcdef',
      SMS_PROVIDER: 'http',
      SMS_HTTP_URL: 'http://127.0.0.1:9/sms',
      // Pending notifications whose job never reached Redis (the shop's write committed, the
      // queueing after it failed) are found by the sweeper: every 2 s here, 60 s by default.
      NOTIFICATION_SWEEP_INTERVAL_MS: '2000',
      NOTIFICATION_SWEEP_GRACE_MS: '5000',
      NOTIFICATION_SEND_BACKOFF_MS: '500',
    });
    const startWeb = async (name: string, port: number) => {
      const w = await startKabinet(name, 'web', env(port), log);
      webs.set(name, w);
      procs.push(w);
      return w;
    };
    const webCount = kind === 'web-kill' ? 2 : 1;
    const webPorts: number[] = [];
    for (let i = 0; i < webCount; i++) {
      webPorts.push(await freePort());
      await startWeb(`web-${String.fromCharCode(97 + i)}`, webPorts[i]!);
    }
    const workerCount = kind === 'web-kill' ? 2 : 1;
    const workers: KabinetProcess[] = [];
    for (let i = 0; i < workerCount; i++) {
      const w = await startKabinet(`worker-${i + 1}`, 'worker', env(), log);
      workers.push(w);
      procs.push(w);
    }
    say(`  kabinet: ${[...webs.keys()].join(', ')} behind ${balancer.url}; ${workers.map((w) => w.name).join(', ')}`);

    // ── the shop's customers: orders imported (no messages), Telegram chats linked ──
    const orders = Array.from({ length: settings.orders }, (_, i) => ({ number: `D-${i}`, chat: NOTIFY_USERS + i, phone: notifyPhone(i) }));
    for (const o of orders) fake.createUser({ id: o.chat, firstName: `Buyer${o.chat % 1000}`, languageCode: 'ru' });
    for (let i = 0; i < settings.inbound.chats; i++) fake.createUser({ id: inboundUser(INBOUND_USERS, i), firstName: `Guest${i}`, languageCode: 'ru' });
    await signedPost(balancer.url, '/api/v1/orders/batch', {
      eventId: 'drill-import',
      items: orders.map((o) => ({ number: o.number, customerPhone: o.phone, status: 'paid', itemsTotal: 2500, total: 2500, placedAt: new Date().toISOString(), items: [{ sku: 'KB-DRILL', name: 'Кружка', quantity: 1, price: 2500 }] })),
    });
    const prisma = createPrisma({ databaseUrl: dbUrl.toString(), maxConnections: 2 });
    cleanups.push(() => prisma.$disconnect());
    {
      const customers = await prisma.customer.findMany({ where: { phone: { in: orders.map((o) => o.phone) } }, select: { id: true, phone: true } });
      const idOf = new Map(customers.map((c) => [c.phone, c.id]));
      await prisma.channelIdentity.createMany({
        data: orders.map((o) => ({ platform: 'telegram' as const, externalId: String(o.chat), chatId: String(o.chat), customerId: idOf.get(o.phone)!, linkedAt: new Date(), languageCode: 'ru' })),
      });
    }

    // ── observers: replies at the fake, /health of every web ──
    const replies = new Map<number, Reply[]>();
    const notified = new Map<number, number>();
    fake.onCall((call) => {
      if (call.method !== 'sendMessage' || call.status !== 200) return;
      const chat = Number(call.params.chat_id);
      const text = String(call.params.text ?? '');
      if (chat >= NOTIFY_USERS) {
        if (classify(text) === 'notification') notified.set(chat, (notified.get(chat) ?? 0) + 1);
        return;
      }
      const list = replies.get(chat) ?? [];
      list.push({ chat, kind: classify(text), text, at: performance.now() });
      replies.set(chat, list);
    });
    // Time 0: the poller and the traffic start now.
    t0 = performance.now();
    const health: HealthSample[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        await Promise.all(
          [...webs.entries()].map(async ([name, w]) => {
            const at = now();
            if (!w.alive) return;
            try {
              const res = await fetch(`http://127.0.0.1:${w.port}/health`, { signal: AbortSignal.timeout(3_000) });
              const body = (await res.json()) as { checks?: Record<string, { status: string }> };
              health.push({ at, web: name, status: res.status, ms: Math.round(now() - at), redis: body.checks?.redis?.status, postgres: body.checks?.postgres?.status });
            } catch {
              health.push({ at, web: name, status: 'none', ms: Math.round(now() - at) });
            }
          }),
        );
        await new Promise((r) => setTimeout(r, 250));
      }
    })();

    // ── traffic, with the fault in the middle ──
    let faultAt = NaN;
    let upAt = NaN;
    let fault = '';
    let aofNote = '';
    let claimedAtKill = 0;
    const faultDone = (async () => {
      await new Promise((r) => setTimeout(r, settings.faultAtMs));
      faultAt = now();
      if (!settings.fault) {
        fault = 'none (control run)';
      } else if (kind === 'redis') {
        fault = `redis-server killed (SIGKILL), down ${settings.downMs / 1000} s, started again on its AOF`;
        // What the kill takes: the inbound queues' dedup marks (one per recorded update) and
        // fencing counters just before it and just after the restart. Fewer after means writes
        // Redis had executed (and answered) never reached its append-only file.
        const before = await inboundMarks(redis.url);
        await redis.stop('kill');
        await new Promise((r) => setTimeout(r, settings.downMs));
        await redis.start();
        const after = await inboundMarks(redis.url);
        aofNote = `redis AOF across the kill: recorded-update marks ${before.seen} before, ${after.seen} after (${Math.max(0, before.seen - after.seen)} lost); inbound fence ${before.fence} before, ${after.fence} after; at the kill: aof_buffer_length ${before.aofBuffer}, aof_pending_bio_fsync ${before.pendingFsync}, aof_delayed_fsync ${before.delayedFsync}`;
      } else if (kind === 'postgres') {
        fault = `postgres stopped at once (SIGQUIT, immediate: crash recovery on start), down ${settings.downMs / 1000} s`;
        await postgres.stop('kill');
        await new Promise((r) => setTimeout(r, settings.downMs));
        await postgres.start();
      } else {
        fault = `web-a killed (SIGKILL) of 2 web processes, back after ${settings.downMs / 1000} s; worker-1 killed (SIGKILL) of 2 workers 2 s later, not restarted`;
        await webs.get('web-a')!.kill9();
        await new Promise((r) => setTimeout(r, 2_000));
        await workers[0]!.kill9();
        // Rows claimed for a send at this moment: the dead worker's among them may have reached
        // Telegram in the round trip it died in, and are sent again after the claim's lease
        // (send.worker.ts, point 3): the documented window, at most one repeat each.
        claimedAtKill = await prisma.notification.count({ where: { status: 'pending', sendingAt: { not: null } } });
        await new Promise((r) => setTimeout(r, settings.downMs - 2_000));
        await startWeb('web-a', webPorts[0]!);
      }
      upAt = now();
      say(`  fault at ${(faultAt / 1000).toFixed(1)} s, over at ${(upAt / 1000).toFixed(1)} s`);
    })();
    const shopDone = sendStatusChanges(balancer.url, orders, settings.orderRate, performance.now() + settings.inbound.durationMs + settings.settleMs);
    const sent: SentUpdate[] = await sendInbound(fake, TOKEN, INBOUND_USERS, settings.inbound, inboundPhone, () => false);
    await faultDone;
    const shop = await shopDone;
    say(`  traffic done at ${(now() / 1000).toFixed(1)} s: ${sent.length} updates, ${shop.accepted}/${orders.length} status changes accepted`);

    // ── settle: everything answered and sent, or the deadline ──
    const byChat = new Map<number, SentUpdate[]>();
    for (const u of sent) byChat.set(u.chat, [...(byChat.get(u.chat) ?? []), u]);
    const allDone = () => {
      if (fake.pendingUpdateCount(TOKEN) > 0) return false;
      for (const [chat, updates] of byChat) if (judgeChat(updates, replies.get(chat) ?? []).lost > 0) return false;
      return orders.every((o) => (notified.get(o.chat) ?? 0) >= 1);
    };
    // With a worker killed, every row settled too: a row the dead worker had claimed stays
    // pending until its lease runs out and is then sent again (a repeat the drill must see).
    const rowsSettled = async () => kind !== 'web-kill' || (await prisma.notification.count({ where: { status: 'pending' } })) === 0;
    const settleUntil = performance.now() + settings.settleMs;
    let nextReport = performance.now() + 5_000;
    while (!(allDone() && (await rowsSettled())) && performance.now() < settleUntil) {
      await new Promise((r) => setTimeout(r, 250));
      if (process.env.DRILL_DEBUG && performance.now() > nextReport) {
        nextReport += 5_000;
        const waiting = [...byChat].filter(([chat, updates]) => judgeChat(updates, replies.get(chat) ?? []).lost > 0).map(([chat]) => chat);
        say(`  settling at ${(now() / 1000).toFixed(1)} s: undelivered at the fake ${fake.pendingUpdateCount(TOKEN)}, chats waiting ${waiting.length} (${waiting.slice(0, 5).join(' ')}), notifications missing ${orders.filter((o) => (notified.get(o.chat) ?? 0) < 1).length}`);
      }
    }
    const drainedAt = allDone() && (await rowsSettled()) ? now() : undefined;
    // Late duplicates (a job or update run again after its lease) show up a little later.
    await new Promise((r) => setTimeout(r, 3_000));
    polling = false;
    await poller;

    // ── verdict ──
    const result: DrillResult = {
      kind,
      fault,
      settings,
      faultAt,
      upAt,
      updatesSent: sent.length,
      answered: 0,
      lost: 0,
      duplicates: 0,
      outOfOrder: 0,
      unclassified: 0,
      latency: { before: { n: 0, p50: NaN, p99: NaN, max: NaN }, during: { n: 0, p50: NaN, p99: NaN, max: NaN }, after: { n: 0, p50: NaN, p99: NaN, max: NaN } },
      webhookAnswers: { before: new Map(), during: new Map(), after: new Map() },
      fakeDelivery: { ...fake.deliveryStats(TOKEN), pending: fake.pendingUpdateCount(TOKEN) },
      loggedIn: { expected: 0, linked: 0 },
      notifications: { expected: orders.length, once: 0, missing: 0, twice: 0, rows: {} },
      shop,
      healthDuring: { polls: 0, reportedDown: 0, answered503: 0, noAnswer: 0 },
      healthOkAfterMs: undefined,
      webhookOkAfterMs: undefined,
      drainedAfterMs: drainedAt === undefined ? undefined : drainedAt - upAt,
      exits: procs.flatMap((p) => p.unexpectedExits),
      log,
      failures: [],
      notes: [],
    };
    const phase = (at: number) => (at < faultAt ? 'before' : at < upAt ? 'during' : 'after');
    const lat: Record<string, number[]> = { before: [], during: [], after: [] };
    for (const [chat, updates] of byChat) {
      const v = judgeChat(updates, replies.get(chat) ?? []);
      result.answered += v.answered;
      result.lost += v.lost;
      result.duplicates += v.duplicates;
      result.outOfOrder += v.outOfOrder;
      result.unclassified += v.unclassified;
      // Baseline: answered before the fault began; then every update the fault caught (sent
      // before it ended, answered after it began); then those sent after it.
      for (const l of v.latencies) {
        const sent = l.sentAt - t0;
        lat[sent + l.ms < faultAt ? 'before' : sent < upAt ? 'during' : 'after']!.push(l.ms);
      }
    }
    for (const p of ['before', 'during', 'after'] as const) {
      const xs = lat[p]!;
      result.latency[p] = { n: xs.length, p50: percentile(xs, 50), p99: percentile(xs, 99), max: xs.length ? Math.max(...xs) : NaN };
    }
    for (const a of answers) {
      const m = result.webhookAnswers[phase(a.at)];
      m.set(a.status, (m.get(a.status) ?? 0) + 1);
    }
    const firstOk = answers.find((a) => a.at >= upAt && a.status.startsWith('2'));
    result.webhookOkAfterMs = firstOk ? firstOk.at - upAt : undefined;
    for (const o of orders) {
      const n = notified.get(o.chat) ?? 0;
      if (n === 0) result.notifications.missing += 1;
      else if (n === 1) result.notifications.once += 1;
      else result.notifications.twice += 1;
    }
    {
      const grouped = await prisma.notification.groupBy({ by: ['status'], _count: true });
      result.notifications.rows = Object.fromEntries(grouped.map((g) => [g.status, g._count]));
      const loginChats = [...byChat.keys()].filter((chat) => (chat - INBOUND_USERS) % settings.inbound.loginEvery === 0 && (byChat.get(chat)?.length ?? 0) >= 5);
      result.loggedIn.expected = loginChats.length;
      result.loggedIn.linked = await prisma.channelIdentity.count({
        where: { platform: 'telegram', externalId: { in: loginChats.map(String) }, customer: { phone: { in: loginChats.map((chat) => inboundPhone(chat - INBOUND_USERS)) } } },
      });
    }
    const dependency = kind === 'redis' ? 'redis' : kind === 'postgres' ? 'postgres' : undefined;
    for (const h of health) {
      if (h.at < faultAt || h.at >= upAt) continue;
      result.healthDuring.polls += 1;
      if (h.status === 'none') result.healthDuring.noAnswer += 1;
      if (h.status === 503) result.healthDuring.answered503 += 1;
      if (dependency && h[dependency] === 'fail') result.healthDuring.reportedDown += 1;
    }
    const okAfter = health.find((h) => h.at >= upAt && h.status === 200 && (kind !== 'web-kill' || h.web === 'web-a'));
    result.healthOkAfterMs = okAfter ? okAfter.at - upAt : undefined;

    // ── pass / fail ──
    const f = result.failures;
    if (result.exits.length) f.push(`processes exited: ${result.exits.join('; ')}`);
    if (result.lost) f.push(`${result.lost} updates never answered`);
    if (result.outOfOrder) f.push(`${result.outOfOrder} answers out of per-chat order`);
    if (result.fakeDelivery.pending) f.push(`${result.fakeDelivery.pending} updates still undelivered at the fake`);
    if (result.notifications.missing) f.push(`${result.notifications.missing} notifications never sent`);
    if (result.notifications.twice && kind !== 'web-kill') f.push(`${result.notifications.twice} notifications sent twice (no worker died: outside the documented window)`);
    if (kind === 'web-kill') {
      if (result.notifications.twice > claimedAtKill) f.push(`${result.notifications.twice} notifications sent twice: more than the ${claimedAtKill} claimed for a send when the worker died (the documented window)`);
      const pending = result.notifications.rows.pending ?? 0;
      if (pending) f.push(`${pending} notification rows still pending at the end`);
      result.notes.push(`notification rows claimed for a send when worker-1 was killed: ${claimedAtKill}; sent twice: ${result.notifications.twice} (a repeat is allowed only for those, once)`);
    }
    if (shop.accepted !== orders.length) f.push(`${orders.length - shop.accepted} status changes never accepted`);
    if (result.loggedIn.linked !== result.loggedIn.expected) f.push(`${result.loggedIn.expected - result.loggedIn.linked} contact logins not recorded`);
    if (settings.fault && dependency && result.healthDuring.reportedDown === 0) f.push(`/health never reported ${dependency} down while it was`);
    if (result.healthOkAfterMs === undefined) f.push('/health never ok again after the fault');
    if (result.duplicates > settings.inbound.chats) f.push(`${result.duplicates} duplicate answers: more than one per chat`);
    if (log.fatal) f.push(`${log.fatal} fatal log lines`);
    if (result.unclassified) {
      const texts = new Set<string>();
      for (const list of replies.values()) for (const r of list) if (r.kind === null && texts.size < 6) texts.add(r.text.slice(0, 60).replace(/\n/g, ' '));
      result.notes.push(`${result.unclassified} answers not classified (texts changed?), e.g. ${[...texts].map((t) => JSON.stringify(t)).join(', ')}`);
    }
    {
      // The chats whose answers did not match, to see what happened.
      let shown = 0;
      for (const [chat, updates] of byChat) {
        const v = judgeChat(updates, replies.get(chat) ?? []);
        if ((v.outOfOrder === 0 && v.lost === 0) || shown++ >= 3) continue;
        result.notes.push(`chat ${chat}: sent ${updates.map((u) => ('text' in u.step.send ? u.step.send.text : 'contact')).join(' ')}; got ${(replies.get(chat) ?? []).map((r) => r.kind ?? '?').join(' ')}`);
      }
    }
    if (aofNote) result.notes.push(aofNote);
    if (process.env.DRILL_DEBUG) {
      result.notes.push(`health samples: ${health.length}; ${health.filter((h) => h.at > faultAt - 1_000 && h.at < upAt + 6_000).map((h) => `${(h.at / 1000).toFixed(1)}s ${h.web} ${h.status} ${h.redis ?? '-'}/${h.postgres ?? '-'} ${h.ms}ms`).join(', ')}`);
      for (const chat of [INBOUND_USERS, INBOUND_USERS + 1]) {
        result.notes.push(`chat ${chat} sent ${(byChat.get(chat) ?? []).map((u) => ('text' in u.step.send ? u.step.send.text : 'contact')).join(' ')}; got ${(replies.get(chat) ?? []).map((r) => `${r.kind ?? '?'}:${JSON.stringify(r.text.slice(0, 40))}`).join(' | ')}`);
      }
    }
    return result;
  } finally {
    for (const p of procs) await p.stop().catch(() => undefined);
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  }
}

/** The inbound queues' recorded-update marks and fencing counters, and the AOF's state (drill:redis). */
async function inboundMarks(url: string): Promise<{ seen: number; fence: number; aofBuffer: string; pendingFsync: string; delayedFsync: string }> {
  const client = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2_000, commandTimeout: 5_000, retryStrategy: (times) => (times > 20 ? null : 100) });
  client.on('error', () => undefined);
  try {
    const info = await client.info('persistence');
    const field = (name: string) => new RegExp(`^${name}:(\\S*)`, 'm').exec(info)?.[1] ?? '?';
    let seen = 0;
    let fence = 0;
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', '*in:*', 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        if (key.includes(':in:seen:')) seen += 1;
        else if (key.endsWith(':in:fence')) fence += Number(await client.get(key));
      }
    } while (cursor !== '0');
    return { seen, fence, aofBuffer: field('aof_buffer_length'), pendingFsync: field('aof_pending_bio_fsync'), delayedFsync: field('aof_delayed_fsync') };
  } finally {
    client.disconnect();
  }
}
