/**
 * npm run bench:hostile — hostile input at volume (issue 13), bounded (watchdog), loopback only.
 *
 * Kabinet's web role runs in its own child process (bench/lib/web-process.ts, NODE_ENV=production,
 * node --expose-gc) with every public route on: the Telegram customer webhook, the staff bot's
 * webhook, the VK Callback API, the shop API v1, the admin API, /health, /metrics (token set),
 * the OpenAPI docs, and a shop-platform webhook. WooCommerce and Shopify cannot both be on in one
 * Kabinet (config refuses it), so the run has two parts, one child each; the requests are split
 * between them (BENCH_HOSTILE_SHOPIFY_SHARE).
 *
 * The routes are read from the running app (Fastify's printRoutes) and cross-checked against
 * its OpenAPI document, so a route added later is attacked without touching this file. Each
 * part sends its share of BENCH_HOSTILE_REQUESTS (default 10,000) hostile requests, spread
 * round-robin over the routes and the request families of bench/lib/hostile-cases.ts, and
 * checks:
 *   - no 5xx anywhere (none of these requests is one a platform should retry);
 *   - the child is alive and still answers a legitimate request (health, a signed read);
 *   - every table of the public schema has the same row count as before, except what the
 *     shop-platform webhook documents: a validly signed delivery it cannot use is stored as
 *     "refused" (one integration_events row per such 200 answer, counted exactly);
 *   - the run's Redis keys (Kabinet's prefix and the queues') are the same keys with the same
 *     lengths as before;
 *   - the child's heap (and external memory) after a forced GC is back within a small margin
 *     of the figure before the flood (RSS printed beside it).
 * The baseline is taken in the same run: counts, keys and memory after a warm-up of the same
 * requests. The load average is printed with the figures.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { Redis } from 'ioredis';
import { createFakeTelegram } from '../src/fakes/telegram/index.js';
import { createFakeVk } from '../src/fakes/vk/index.js';
import { TELEGRAM_WEBHOOK_PATH } from '../src/channels/telegram/webhook.plugin.js';
import { STAFF_WEBHOOK_PATH } from '../src/staff/webhook.plugin.js';
import { signRequest } from '../src/lib/signature.js';
import { databaseUrl, deleteKeys, dropDatabase, freePort, freshDatabase, machine, REDIS_URL } from './lib/setup.js';
import { createRng, FAMILIES, hostileRequest, type Auth, type Credentials, type RouteInfo } from './lib/hostile-cases.js';
import { send } from './lib/hostile-send.js';
import { mib, table } from './lib/stats.js';
import { nextMessage } from './lib/ipc.js';

const TOTAL = Number(process.env.BENCH_HOSTILE_REQUESTS ?? 10_000);
const CONCURRENCY = Number(process.env.BENCH_HOSTILE_CONCURRENCY ?? 16);
const SHOPIFY_SHARE = Number(process.env.BENCH_HOSTILE_SHOPIFY_SHARE ?? 0.2);
const WARMUP = Number(process.env.BENCH_HOSTILE_WARMUP ?? 600);
/** How many times the shop-platform webhook route is in the rotation (it is the only route of its part). */
const PLATFORM_WEIGHT = 5;
const SEED = Number(process.env.BENCH_HOSTILE_SEED ?? 13);
const BUDGET_MS = Number(process.env.BENCH_HOSTILE_BUDGET_MS ?? 8 * 60_000);
/** Heap and external memory after GC may exceed the baseline by this much (MiB or fraction, the larger). */
const HEAP_MARGIN_BYTES = 8 * 1024 * 1024;
const HEAP_MARGIN_FRACTION = 0.1;
/** RSS gives memory back to the OS lazily; a larger margin, and printed. */
const RSS_MARGIN_FRACTION = 0.25;

// Small caps so "over each cap" stays cheap on two shared cores (the checks are the same at any size).
const CAPS = { http: 256 * 1024, shopSingle: 64 * 1024, shopBatch: 512 * 1024 };
const TG = '7100021:AAbench-hostile-customer-bot-token';
const STAFF = '7100022:AAbench-hostile-staff-bot-token';
const VK_GROUP = 7021;
const creds: Credentials = {
  telegramSecret: 'bench-hostile-tg-secret',
  staffSecret: 'bench-hostile-staff-secret',
  vkSecret: 'bench-hostile-vk-secret',
  vkGroupId: VK_GROUP,
  shopSecret: 'bench-hostile-shop-secret-0123456789',
  adminToken: 'bench-hostile-admin-token-0123456789',
  wooSecret: 'bench-hostile-woo-secret',
  shopifySecret: 'bench-hostile-shopify-secret',
  metricsToken: 'bench-hostile-metrics-token-0123',
};
const RUN = process.env.BENCH_RUN && /^[a-z0-9_]{1,20}$/.test(process.env.BENCH_RUN) ? process.env.BENCH_RUN : 'hostile';

const watchdog = setTimeout(() => {
  console.error(`bench:hostile still running after ${BUDGET_MS / 1000} s; giving up (the child processes exit with it)`);
  process.exit(2);
}, BUDGET_MS);
watchdog.unref();

const began = performance.now();
const log = (line: string) => console.log(`[${((performance.now() - began) / 1000).toFixed(1)} s] ${line}`);
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

// ───── what is where ─────

/** Which credentials a route takes, and its body cap, from its path. */
function classify(method: string, path: string): RouteInfo {
  let auth: Auth = 'none';
  let cap = CAPS.http;
  if (path === TELEGRAM_WEBHOOK_PATH) [auth, cap] = ['telegram', 1024 * 1024];
  else if (path === STAFF_WEBHOOK_PATH) auth = 'staff';
  else if (path === '/vk/callback') [auth, cap] = ['vk', 256 * 1024];
  else if (path.startsWith('/api/v1/')) [auth, cap] = ['shop', path.endsWith('/batch') ? CAPS.shopBatch : CAPS.shopSingle];
  else if (path.startsWith('/api/admin/')) auth = 'admin';
  else if (path === '/integrations/woocommerce/webhook') [auth, cap] = ['woocommerce', 2 * 1024 * 1024];
  else if (path === '/integrations/shopify/webhook') [auth, cap] = ['shopify', 2 * 1024 * 1024];
  else if (path === '/metrics') auth = 'metrics';
  return { method, path, auth, cap };
}

/**
 * Fastify's printRoutes({ commonPrefix: false }) as [method, path] pairs: each line is a tree
 * node whose text continues its parent's path, with the methods it serves in parentheses.
 */
export function parsePrintedRoutes(printed: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const stack: string[] = [];
  for (const line of printed.split('\n')) {
    const m = /^([\s│├└─]*?)(?:[├└]── )(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = Math.round([...m[1]!].length / 4);
    stack.length = depth;
    stack[depth] = m[2]!;
    if (!m[3]) continue;
    const path = stack.join('');
    for (const method of m[3].split(',').map((s) => s.trim())) out.push([method, path]);
  }
  return out;
}

// ───── the child ─────

interface Memory { rss: number; heapUsed: number; external: number; arrayBuffers: number }
interface Child { process: ChildProcess; origin: URL; routes: string; memory(gc?: boolean): Promise<Memory>; stop(): Promise<void> }

function startChild(env: Record<string, string>): Promise<Child> {
  const child = fork(new URL('./lib/web-process.ts', import.meta.url).pathname, [], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const once = <T>(type: string) => nextMessage<T>(child, type, 'web process');
  return once<{ origin: string; routes: string }>('ready').then((ready) => ({
    process: child,
    origin: new URL(ready.origin),
    routes: ready.routes,
    async memory(gc = true) {
      const answer = once<{ memory: Memory; gcAvailable: boolean }>('memory');
      child.send({ type: 'memory', gc });
      const m = await answer;
      if (gc && !m.gcAvailable) throw new Error('the web process has no gc (start it with --expose-gc)');
      return m.memory;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const stopped = once('stopped').catch(() => undefined);
      child.send({ type: 'stop' });
      await stopped;
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
    },
  }));
}

// ───── state that must not change ─────

async function rowCounts(client: pg.Client): Promise<Map<string, number>> {
  const { rows: tables } = await client.query<{ t: string }>("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1");
  const counts = new Map<string, number>();
  for (const { t } of tables) {
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM "${t.replaceAll('"', '""')}"`);
    counts.set(t, Number(rows[0]!.n));
  }
  return counts;
}

/** Every key of the run's prefixes with its type and length. */
async function redisState(redis: Redis, prefixes: string[]): Promise<Map<string, string>> {
  const state = new Map<string, string>();
  for (const prefix of prefixes) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        const size =
          type === 'list' ? await redis.llen(key)
          : type === 'zset' ? await redis.zcard(key)
          : type === 'hash' ? await redis.hlen(key)
          : type === 'set' ? await redis.scard(key)
          : type === 'stream' ? await redis.xlen(key)
          : type === 'string' ? await redis.strlen(key)
          : 0;
        state.set(key, `${type}:${size}`);
      }
    } while (cursor !== '0');
  }
  return state;
}

function diff<K, V>(before: Map<K, V>, after: Map<K, V>): Array<{ key: K; before: V | undefined; after: V | undefined }> {
  const out: Array<{ key: K; before: V | undefined; after: V | undefined }> = [];
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    if (before.get(key) !== after.get(key)) out.push({ key, before: before.get(key), after: after.get(key) });
  }
  return out;
}

// ───── one part ─────

interface PartResult {
  name: string;
  sent: number;
  seconds: number;
  routes: RouteInfo[];
  byRoute: Map<string, Map<string, number>>;
  byFamily: Map<string, Map<string, number>>;
  failures: string[];
  notes: string[];
  memory: { before: Memory; half: Memory; afterNoGc: Memory; afterGc: Memory };
  loadBefore: string;
  loadAfter: string;
}

const bump = (m: Map<string, Map<string, number>>, row: string, col: string) => {
  const r = m.get(row) ?? new Map<string, number>();
  r.set(col, (r.get(col) ?? 0) + 1);
  m.set(row, r);
};

async function runPart(name: string, platform: 'woocommerce' | 'shopify', count: number, apiRoot: string, vkBase: string, staffChatId: number, shopWebhookUrl: string, db: pg.Client): Promise<PartResult> {
  const port = await freePort();
  const prefix = `kbench_${RUN}-${name}-${randomBytes(3).toString('hex')}`;
  const base = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'fatal',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: databaseUrl(),
    REDIS_URL,
    QUEUE_PREFIX: `{${prefix}}`,
    REDIS_KEY_PREFIX: `${prefix}:`,
    HTTP_BODY_LIMIT_BYTES: String(CAPS.http),
    SHOP_API_BODY_LIMIT_BYTES: String(CAPS.shopSingle),
    SHOP_API_BATCH_BODY_LIMIT_BYTES: String(CAPS.shopBatch),
    OTP_SECRET: 'bench-hostile-otp-secret-0123456789',
    SHOP_API_SECRET: creds.shopSecret,
    SHOP_WEBHOOK_URL: shopWebhookUrl,
    ADMIN_API_TOKEN: creds.adminToken,
    METRICS_TOKEN: creds.metricsToken,
    SMS_PROVIDER: 'http',
    SMS_HTTP_URL: 'http://127.0.0.1:9/sms',
    TELEGRAM_BOT_TOKEN: TG,
    TELEGRAM_API_ROOT: apiRoot,
    TELEGRAM_WEBHOOK_URL: `${base}${TELEGRAM_WEBHOOK_PATH}`,
    TELEGRAM_WEBHOOK_SECRET: creds.telegramSecret,
    STAFF_BOT_TOKEN: STAFF,
    STAFF_CHAT_ID: String(staffChatId),
    STAFF_WEBHOOK_URL: `${base}${STAFF_WEBHOOK_PATH}`,
    STAFF_WEBHOOK_SECRET: creds.staffSecret,
    VK_GROUP_ID: String(VK_GROUP),
    VK_GROUP_TOKEN: 'bench-hostile-vk-token',
    VK_API_BASE_URL: vkBase,
    VK_CALLBACK_SECRET: creds.vkSecret,
    VK_CONFIRMATION_CODE: 'bench-hostile-confirm',
    ...(platform === 'woocommerce'
      ? { WOOCOMMERCE_WEBHOOK_SECRET: creds.wooSecret, WOOCOMMERCE_URL: 'http://127.0.0.1:9' }
      : { SHOPIFY_WEBHOOK_SECRET: creds.shopifySecret, SHOPIFY_SHOP_DOMAIN: 'bench-hostile.myshopify.com' }),
  };
  log(`${name}: starting the web role (NODE_ENV=production) in a child process`);
  const child = await startChild(env);
  const failures: string[] = [];
  const notes: string[] = [];
  try {
    // The routes, from the running app; the OpenAPI document must not name one they lack.
    const printed = parsePrintedRoutes(child.routes).filter(([method]) => method !== 'HEAD');
    const spec = (await (await fetch(new URL('/docs/json', child.origin))).json()) as { paths: Record<string, Record<string, unknown>> };
    for (const [path, methods] of Object.entries(spec.paths)) {
      const pattern = path.replace(/\{([^}]+)\}/g, ':$1');
      for (const method of Object.keys(methods)) {
        if (!printed.some(([m, p]) => m === method.toUpperCase() && p === pattern)) failures.push(`OpenAPI names ${method.toUpperCase()} ${pattern} but the app does not serve it`);
      }
    }
    const routes = printed.map(([m, p]) => classify(m, p));
    // The platform's webhook is one route among ~40 but the only way in for its part: weight it.
    const targets = routes.flatMap((r) => (r.auth === platform ? Array.from({ length: PLATFORM_WEIGHT }, () => r) : [r]));
    const must = [TELEGRAM_WEBHOOK_PATH, STAFF_WEBHOOK_PATH, '/vk/callback', '/api/v1/orders/:number/status', '/api/admin/broadcasts', `/integrations/${platform}/webhook`, '/health', '/metrics'];
    for (const path of must) if (!routes.some((r) => r.path === path)) failures.push(`route ${path} is not on: the bench did not enable every route`);
    if (routes.some((r) => r.path.startsWith('/sandbox'))) failures.push('the sandbox is served in production');
    log(`${name}: ${routes.length} routes (${[...new Set(routes.map((r) => r.auth))].join(', ')}); OpenAPI paths ${Object.keys(spec.paths).length}`);

    const byRoute = new Map<string, Map<string, number>>();
    const byFamily = new Map<string, Map<string, number>>();
    const rng = createRng(SEED + (platform === 'shopify' ? 1 : 0));
    /** Integration deliveries answered 200 with a status other than ping: each stores one integration_events row. */
    let storedDeliveries = 0;
    let shopifyWithWebhookId = 0;
    let applied = 0;
    /** Shop batches answered 200 (a valid envelope, every item refused): each records its eventId, so a repeat gets the same answer. */
    let batchAnswered = 0;

    async function flood(n: number, record: boolean): Promise<number> {
      let next = 0;
      let sent = 0;
      const worker = async () => {
        for (;;) {
          const i = next++;
          if (i >= n) return;
          const route = targets[i % targets.length]!;
          const family = FAMILIES[Math.floor(i / targets.length) % FAMILIES.length]!;
          const req = hostileRequest(route, family, creds, rng);
          if (route.auth === 'shopify' && rng.chance(0.3)) req.headers['x-shopify-webhook-id'] = rng.pick(['', `wh-${rng.int(1e9)}`, 'x'.repeat(500), '\u00ff']);
          const outcome = await send(child.origin, req);
          sent++;
          const col = outcome.kind === 'status' ? String(outcome.status) : outcome.kind === 'hung-up' ? 'hung up' : `no answer (${outcome.reason})`;
          if (outcome.kind === 'status' && (route.auth === 'woocommerce' || route.auth === 'shopify') && outcome.status === 200) {
            const status = (JSON.parse(outcome.body) as { status?: string }).status;
            if (status !== 'ping') storedDeliveries++;
            if (status === 'applied') applied++;
            if (route.auth === 'shopify' && req.headers['x-shopify-webhook-id'] && req.method === 'POST' && req.path === route.path) shopifyWithWebhookId++;
          }
          if (outcome.kind === 'status' && outcome.status === 200 && route.auth === 'shop' && route.path.endsWith('/batch') && req.method === 'POST') batchAnswered++;
          if (!record) continue;
          bump(byRoute, req.route, col);
          bump(byFamily, req.family, col);
          if (outcome.kind === 'status' && outcome.status >= 500) failures.push(`${outcome.status} from ${req.method} ${req.path.slice(0, 120)} (${req.family}): ${outcome.body.slice(0, 200)}`);
          if (outcome.kind === 'no-answer' && !outcome.reason.startsWith('client refused')) notes.push(`no answer from ${req.method} ${req.path.slice(0, 80)} (${req.family}): ${outcome.reason}`);
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      return sent;
    }

    // Warm-up (same requests): lazy initialisation and JIT are not a leak.
    log(`${name}: warm-up, ${WARMUP} requests`);
    await flood(WARMUP, false);
    await new Promise((r) => setTimeout(r, 1_000));
    const countsBefore = await rowCounts(db);
    const redis = new Redis(REDIS_URL, { lazyConnect: true });
    await redis.connect();
    const prefixes = [`{${prefix}}`, `${prefix}:`];
    const keysBefore = await redisState(redis, prefixes);
    const memBefore = await child.memory(true);
    const storedBeforeFlood = storedDeliveries;
    const shopifyIdsBefore = shopifyWithWebhookId;
    const batchesBefore = batchAnswered;
    const loadBefore = load();
    log(`${name}: baseline: ${countsBefore.size} tables, ${keysBefore.size} Redis keys, heap ${mib(memBefore.heapUsed)}, RSS ${mib(memBefore.rss)}; load average ${loadBefore}`);

    log(`${name}: ${count} hostile requests, ${CONCURRENCY} at a time`);
    const t0 = performance.now();
    // In two halves with a forced GC between: a leak grows in the second half as in the first;
    // a one-time cost (compiled code, a metric label per route and status) does not.
    let sent = await flood(Math.ceil(count / 2), true);
    const memHalf = await child.memory(true);
    sent += await flood(Math.floor(count / 2), true);
    const seconds = (performance.now() - t0) / 1000;
    const loadAfter = load();
    log(`${name}: sent ${sent} in ${seconds.toFixed(1)} s; load average ${loadAfter}`);
    const memAfterNoGc = await child.memory(false);

    // Alive, and still serving legitimate requests.
    const alive = child.process.exitCode === null && child.process.signalCode === null;
    if (!alive) failures.push(`the web process died (exit ${child.process.exitCode ?? child.process.signalCode})`);
    else {
      const health = await fetch(new URL('/health', child.origin));
      if (health.status !== 200) failures.push(`GET /health answered ${health.status} after the flood`);
      const path = '/api/v1/customers/lookup?externalId=nobody-hostile';
      const read = await fetch(new URL(path, child.origin), { headers: { 'kabinet-signature': signRequest(creds.shopSecret, { method: 'GET', path }) } });
      if (read.status !== 404) failures.push(`a signed read answered ${read.status} after the flood (404 expected)`);
    }

    await new Promise((r) => setTimeout(r, 2_000));
    const countsAfter = await rowCounts(db);
    const keysAfter = await redisState(redis, prefixes);
    await redis.quit();
    const memAfterGc = alive ? await child.memory(true) : memAfterNoGc;

    const stored = storedDeliveries - storedBeforeFlood;
    const shopifyIds = shopifyWithWebhookId - shopifyIdsBefore;
    const batches = batchAnswered - batchesBefore;
    if (applied > 0) failures.push(`${applied} hostile shop-platform deliveries were applied`);
    for (const d of diff(countsBefore, countsAfter)) {
      const delta = (d.after ?? 0) - (d.before ?? 0);
      if (d.key === 'integration_events' && delta === stored) notes.push(`integration_events +${delta}: each a validly signed ${platform} delivery it could not use, stored as refused and answered 200 (documented)`);
      else if (d.key === 'processed_events' && delta >= batches && delta <= batches + (platform === 'shopify' ? shopifyIds : 0)) notes.push(`processed_events +${delta}: ${batches} event ids of signed batches answered 200 with every item refused (a repeat gets the same answer)${delta > batches ? `, ${delta - batches} X-Shopify-Webhook-Id of validly signed refused deliveries (a repeat is a duplicate)` : ''} (documented)`);
      else failures.push(`table ${d.key}: ${d.before} rows before, ${d.after} after`);
    }
    if (stored > 0 && !diff(countsBefore, countsAfter).some((d) => d.key === 'integration_events')) failures.push(`${stored} refused deliveries answered 200 but not stored`);
    for (const d of diff(keysBefore, keysAfter)) failures.push(`Redis ${d.key}: ${d.before ?? 'absent'} before, ${d.after ?? 'absent'} after`);
    const heapLimit = memBefore.heapUsed + Math.max(HEAP_MARGIN_BYTES, memBefore.heapUsed * HEAP_MARGIN_FRACTION);
    if (memAfterGc.heapUsed > heapLimit) failures.push(`heap after GC ${mib(memAfterGc.heapUsed)} > ${mib(heapLimit)} (baseline ${mib(memBefore.heapUsed)} + margin)`);
    const extLimit = memBefore.external + Math.max(HEAP_MARGIN_BYTES, memBefore.external * HEAP_MARGIN_FRACTION);
    if (memAfterGc.external > extLimit) failures.push(`external memory after GC ${mib(memAfterGc.external)} > ${mib(extLimit)}`);
    if (memAfterGc.rss > memBefore.rss * (1 + RSS_MARGIN_FRACTION)) failures.push(`RSS after GC ${mib(memAfterGc.rss)} > baseline ${mib(memBefore.rss)} + ${RSS_MARGIN_FRACTION * 100}%`);

    return { name, sent, seconds, routes, byRoute, byFamily, failures, notes, memory: { before: memBefore, half: memHalf, afterNoGc: memAfterNoGc, afterGc: memAfterGc }, loadBefore, loadAfter };
  } finally {
    await child.stop().catch(() => child.process.kill('SIGKILL'));
    await deleteKeys([`{${prefix}}*`, `${prefix}:*`]);
  }
}

function histogram(m: Map<string, Map<string, number>>): string {
  const cols = [...new Set([...m.values()].flatMap((r) => [...r.keys()]))].sort();
  const rows = [['', ...cols, 'total']];
  for (const [row, counts] of [...m.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const total = [...counts.values()].reduce((s, x) => s + x, 0);
    rows.push([row, ...cols.map((c) => (counts.get(c) ? String(counts.get(c)) : '·')), String(total)]);
  }
  return table(rows);
}

// ───── main ─────

console.log(`Kabinet hostile-input bench — ${new Date().toISOString()}`);
console.log(`Machine: ${machine()}; load average ${load()} (1, 5, 15 min)`);
console.log(`Requests: ${TOTAL} (WooCommerce part ${TOTAL - Math.round(TOTAL * SHOPIFY_SHARE)}, Shopify part ${Math.round(TOTAL * SHOPIFY_SHARE)}), ${CONCURRENCY} at a time, warm-up ${WARMUP} per part, seed ${SEED}\n`);

const tg = createFakeTelegram({ rateLimits: false, recordCalls: false, requireStart: false });
const apiRoot = await tg.listen();
tg.createBot({ token: TG, username: 'bench_hostile_bot' });
const staffBot = tg.createBot({ token: STAFF, username: 'bench_hostile_staff_bot' });
const group = tg.createGroup({ title: 'Bench hostile staff', isForum: true, members: [staffBot.id] });
const vk = createFakeVk({ rateLimit: false, recordCalls: false });
const vkBase = await vk.listen();
vk.createGroup({ id: VK_GROUP, token: 'bench-hostile-vk-token', confirmationCode: 'bench-hostile-confirm', secret: creds.vkSecret, name: 'Bench hostile' });
// The shop's webhook endpoint (POST /api/v1/webhooks/test sends here): answers 200.
let shopHits = 0;
const shopSink = createHttpServer((req, res) => {
  shopHits++;
  req.resume();
  req.on('end', () => res.end('ok'));
});
await new Promise<void>((resolve) => shopSink.listen(0, '127.0.0.1', resolve));
const sinkAddress = shopSink.address();
const shopWebhookUrl = `http://127.0.0.1:${typeof sinkAddress === 'object' && sinkAddress ? sinkAddress.port : 0}/kabinet`;

const { seeded } = await freshDatabase();
log(`database ${databaseUrl().split('/').pop()} migrated and seeded (${seeded.customers} customers, ${seeded.orders} orders, ${seeded.products} products)`);
const db = new pg.Client({ connectionString: databaseUrl() });
await db.connect();

const results: PartResult[] = [];
let exitCode = 0;
try {
  const shopifyCount = Math.round(TOTAL * SHOPIFY_SHARE);
  results.push(await runPart('woo', 'woocommerce', TOTAL - shopifyCount, apiRoot, vkBase, group.id, shopWebhookUrl, db));
  if (shopifyCount > 0) results.push(await runPart('shopify', 'shopify', shopifyCount, apiRoot, vkBase, group.id, shopWebhookUrl, db));
} finally {
  await db.end();
  await dropDatabase();
  await tg.close();
  await vk.close();
  shopSink.close();
}

for (const r of results) {
  console.log(`\n═══ part "${r.name}": ${r.sent} requests over ${r.routes.length} routes in ${r.seconds.toFixed(1)} s (${(r.sent / r.seconds).toFixed(0)}/s); load average ${r.loadBefore} before, ${r.loadAfter} after\n`);
  console.log('status by route');
  console.log(histogram(r.byRoute));
  console.log('\nstatus by request family');
  console.log(histogram(r.byFamily));
  const m = r.memory;
  console.log('\nweb process memory          RSS        heap used  external   array buffers');
  for (const [label, x] of [['baseline (after warm-up, GC)', m.before], ['half the flood, forced GC', m.half], ['after the flood, no GC', m.afterNoGc], ['after 2 s and a forced GC', m.afterGc]] as const) {
    console.log(`${label.padEnd(28)}${mib(x.rss).padStart(10)} ${mib(x.heapUsed).padStart(10)} ${mib(x.external).padStart(10)} ${mib(x.arrayBuffers).padStart(10)}`);
  }
  const d = (a: number, b: number) => `${((a - b) / 1024 / 1024).toFixed(1)} MiB`;
  console.log(`heap after GC vs baseline: ${d(m.afterGc.heapUsed, m.before.heapUsed)} (first half ${d(m.half.heapUsed, m.before.heapUsed)}, second half ${d(m.afterGc.heapUsed, m.half.heapUsed)}); RSS: ${d(m.afterGc.rss, m.before.rss)}`);
  const noAnswer = r.notes.filter((n) => n.startsWith('no answer'));
  for (const n of r.notes.filter((x) => !x.startsWith('no answer'))) console.log(`note: ${n}`);
  if (noAnswer.length) console.log(`note: ${noAnswer.length} requests got no answer (not 5xx): ${noAnswer.slice(0, 5).join('; ')}`);
  if (r.failures.length) {
    exitCode = 1;
    console.log(`\nFAILED (${r.failures.length}):`);
    for (const f of r.failures.slice(0, 40)) console.log(`  - ${f}`);
  } else console.log('\nPASS: no 5xx, the process alive and serving, no row written (beyond the documented refused-delivery log), Redis unchanged, memory back within the margin');
}
console.log(`\nthe shop's webhook endpoint was called ${shopHits} times (POST /api/v1/webhooks/test with a valid signature and body; none expected from hostile bodies)`);
console.log(`total ${((performance.now() - began) / 1000).toFixed(0)} s; load average at the end ${load()}`);
process.exit(exitCode);
