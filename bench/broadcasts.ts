/**
 * npm run bench:broadcasts — the achieved broadcast send rate as a fraction of each fake's
 * enforced cap, with 10,000 recipients and two worker processes (`src/main.ts worker`,
 * real child processes sharing one Redis limiter per platform), 429s / VK error 6 counted:
 *   - Telegram at 30 messages/s (the fake's free cap)
 *   - Telegram at 1000 messages/s (TELEGRAM_PAID_BROADCAST, the fake's paid cap)
 *   - VK at 20 requests/s, personalized text (25 messages.send per execute)
 *   - VK at 20 requests/s, one text for all (100 peers per messages.send, 25 per execute)
 * BENCH_ONLY=1,2 runs a subset (indexes into the list). BENCH_GAPS=1 prints, per scenario, the
 * sends per second, the first 1.5 s per 100 ms and the longest gaps between two sends.
 * The rate is measured at the fake, from the first accepted send to the last. At 30/s,
 * 10,000 messages take 5.5 minutes; by default that scenario is measured over its first
 * BENCH_TG30_SECONDS (60) seconds and then cancelled; BENCH_FULL=1 sends all of it.
 *
 * Baseline in the same run (first row): two bare processes (bench/lib/bare-sender.ts) send
 * BENCH_BASELINE_MESSAGES (5000) Telegram messages at the paid cap through the same sender and
 * token pacer, without database, queue or rendering: the ceiling of the transport, the pacer
 * and the fake on this machine. Each row prints the load average and the CPU share of this
 * process (it runs the fakes) so a loaded machine or a saturated fake shows in the figures.
 * A watchdog (BENCH_WATCHDOG_MINUTES, 25) kills the workers and exits if a run hangs.
 * BENCH_RUN=<name> gives the run its own database and Redis keys. BENCH_CPU_PROF=<dir> writes a
 * .cpuprofile of each worker process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';
import { Redis } from 'ioredis';
import { createBroadcastsFromInfra } from '../src/broadcasts/index.js';
import { loadConfig, type Env } from '../src/config/index.js';
import { createFakeTelegram } from '../src/fakes/telegram/index.js';
import { createFakeVk } from '../src/fakes/vk/index.js';
import { createInfrastructure, type Infrastructure } from '../src/infra/infrastructure.js';
import { ensureDatabase, migrate } from '../src/infra/migrator.js';
import { machine } from './lib/setup.js';
import { SEND_QUEUE } from '../src/notifications/send-queue.js';

const PG_ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** BENCH_RUN=<name>: this run's own database and keys (two checkouts on one machine). */
const RUN = process.env.BENCH_RUN && /^[a-z0-9_]{1,20}$/.test(process.env.BENCH_RUN) ? process.env.BENCH_RUN : undefined;
const DB = RUN ? `kabinet_bench_broadcasts_${RUN}` : 'kabinet_bench_broadcasts';
const KEY_MARK = RUN ? `kbench_${RUN}-bc` : 'kbench-bc';
const BASELINE_MESSAGES = Number(process.env.BENCH_BASELINE_MESSAGES ?? 5000);
const WATCHDOG_MINUTES = Number(process.env.BENCH_WATCHDOG_MINUTES ?? 25);
const RECIPIENTS = Number(process.env.BENCH_RECIPIENTS ?? 10_000);
const TG30_SECONDS = Number(process.env.BENCH_TG30_SECONDS ?? 60);
const FULL = process.env.BENCH_FULL === '1';
const WORKERS = 2;
const TG_TOKEN = '7000099:AAbench-broadcasts-token-xxxxxxxx';
const VK_TOKEN = 'vk-bench-broadcasts';
const VK_GROUP = 7099;

const dbUrl = (() => {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${DB}`;
  return u.toString();
})();

interface Scenario {
  name: string;
  platform: 'telegram' | 'vk';
  env: Env;
  cap: number;
  unit: string;
  text: string;
  /** Stop measuring (and cancel) after this long. */
  limitSeconds?: number;
}

const scenarios: Scenario[] = [
  { name: 'Telegram, free cap', platform: 'telegram', env: { TELEGRAM_RATE_LIMIT: '30' }, cap: 30, unit: 'msg/s', text: '{firstName}, скидка 20%', ...(FULL ? {} : { limitSeconds: TG30_SECONDS }) },
  { name: 'Telegram, paid broadcast', platform: 'telegram', env: { TELEGRAM_PAID_BROADCAST: 'true' }, cap: 1000, unit: 'msg/s', text: '{firstName}, скидка 20%' },
  { name: 'VK, personalized', platform: 'vk', env: { VK_RATE_LIMIT: '20' }, cap: 20, unit: 'req/s', text: '{firstName}, скидка 20%' },
  { name: 'VK, one text for all', platform: 'vk', env: { VK_RATE_LIMIT: '20' }, cap: 20, unit: 'req/s', text: 'Скидка 20% на всё' },
];

async function freshDatabase(): Promise<void> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS "${DB}" WITH (FORCE)`);
  await c.end();
  await ensureDatabase(dbUrl);
  await migrate(dbUrl, 'prisma/migrations');
}

/** Peak count in any sliding second. */
function peak(stamps: number[]): number {
  let best = 0;
  for (let i = 0, j = 0; i < stamps.length; i++) {
    while (stamps[i]! - stamps[j]! >= 1000) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

const children: ChildProcess[] = [];
const rows: string[][] = [];
const HEAD = ['scenario', 'fake cap', 'sent', 'VK requests', 'achieved', 'of cap', 'VK messages', 'peak in 1 s', '429 / VK 6', 'load avg', 'bench CPU'];

function printTable(): void {
  const widths = HEAD.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(line(HEAD));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  console.log('load avg: the 1-minute load average at the end of the row. bench CPU: this process (the fakes and the bench) in share of one core over the row; near 100% the fake limits the rate.');
}

const load = () => loadavg()[0]!.toFixed(1);

async function exitOf(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  await new Promise((r) => c.once('exit', r));
}

async function deleteKeys(prefix: string): Promise<void> {
  const r = new Redis(REDIS_URL);
  for (const pattern of [`{${prefix}}*`, `${prefix}:*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await r.del(...keys);
    } while (cursor !== '0');
  }
  await r.quit();
}

async function main(): Promise<void> {
  console.log(`Broadcast benchmark: ${RECIPIENTS} recipients per scenario, ${WORKERS} worker processes, ${machine()}, load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const watchdog = setTimeout(() => {
    console.error(`watchdog: still running after ${WATCHDOG_MINUTES} minutes; stopping`);
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    if (rows.length > 0) printTable();
    process.exit(2);
  }, WATCHDOG_MINUTES * 60_000);
  watchdog.unref();
  await freshDatabase();
  const tg = createFakeTelegram({ requireStart: false, recordCalls: false });
  const tgRoot = await tg.listen();
  tg.createBot({ token: TG_TOKEN, username: 'kabinet_bench_broadcast_bot' });
  const vk = createFakeVk({ recordCalls: false, rateLimit: { perSecond: 20 } });
  const vkRoot = await vk.listen();
  vk.createGroup({ id: VK_GROUP, token: VK_TOKEN, confirmationCode: 'c', secret: 's' });
  const baseEnv: Env = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'error',
    DATABASE_URL: dbUrl,
    REDIS_URL,
    SHOP_API_SECRET: 'bench-shop-secret-0123456789',
    OTP_SECRET: 'bench-otp-secret-0123456789abcdef',
    TELEGRAM_BOT_TOKEN: TG_TOKEN,
    TELEGRAM_API_ROOT: tgRoot,
    VK_GROUP_TOKEN: VK_TOKEN,
    VK_GROUP_ID: String(VK_GROUP),
    VK_API_BASE_URL: vkRoot,
    VK_CALLBACK_SECRET: 's',
    VK_CONFIRMATION_CODE: 'c',
    // Production refuses the log SMS provider with VK on; no login code is sent in this bench.
    SMS_PROVIDER: 'http',
    SMS_HTTP_URL: 'http://127.0.0.1:9/sms',
  };

  // The audience: RECIPIENTS consenting customers on each platform.
  const seedInfra = await createInfrastructure(loadConfig({ ...baseEnv, QUEUE_PREFIX: `{${KEY_MARK}-seed}`, REDIS_KEY_PREFIX: `${KEY_MARK}-seed:` }));
  for (const platform of ['telegram', 'vk'] as const) {
    // 1000 rows per statement: under the bind values Prisma puts in one PostgreSQL statement, so it does not split
    // a statement into chunks it runs at once on one transaction's connection (its bug
    // prisma/orm#29646: node-postgres' "client.query() when the client is already executing"
    // deprecation warning, an error in pg 9).
    for (let from = 0; from < RECIPIENTS; from += 1000) {
      const n = Math.min(1000, RECIPIENTS - from);
      const customers = await seedInfra.prisma.customer.createManyAndReturn({
        data: Array.from({ length: n }, (_, i) => ({ phone: `+7966${platform === 'vk' ? 1 : 0}${String(from + i).padStart(6, '0')}`, firstName: `Имя${from + i}`, marketingConsent: true, notifyPromotions: true })),
        select: { id: true },
      });
      await seedInfra.prisma.channelIdentity.createMany({
        data: customers.map((c) => {
          const id = platform === 'telegram' ? tg.createUser({ firstName: 'P' }).id : vk.createUser({ firstName: 'P' }).id;
          return { platform, externalId: String(id), chatId: String(id), customerId: c.id, linkedAt: new Date(), lastSeenAt: new Date() };
        }),
      });
    }
  }
  await seedInfra.close();

  /** Telegram sends accepted / refused at the fake, while `run` runs. */
  async function measureTelegram(run: () => Promise<void>): Promise<{ sends: number[]; refused: number; cpu: number }> {
    const sends: number[] = [];
    let refused = 0;
    const off = tg.onCall((c) => {
      if (c.token !== TG_TOKEN || c.method !== 'sendMessage') return;
      if (c.status === 200) sends.push(c.at);
      else if (c.status === 429) refused += 1;
    });
    const cpu0 = process.cpuUsage();
    const t0 = Date.now();
    await run();
    const used = process.cpuUsage(cpu0);
    off();
    return { sends: sends.sort((a, b) => a - b), refused, cpu: (used.user + used.system) / 1000 / Math.max(1, Date.now() - t0) };
  }

  // Baseline: the bare transport at the paid cap, two processes sharing one pacer.
  if (process.env.BENCH_BASELINE !== '0') {
    const per = Math.ceil(BASELINE_MESSAGES / WORKERS);
    for (let i = 0; i < per * WORKERS; i++) tg.createUser({ id: 900_000_000 + i, firstName: 'B' });
    const prefix = `${KEY_MARK}-${randomBytes(3).toString('hex')}`;
    const { sends, refused, cpu } = await measureTelegram(async () => {
      const bare = Array.from({ length: WORKERS }, (_, w) => {
        const c = spawn(process.execPath, ['--import', 'tsx', 'bench/lib/bare-sender.ts'], {
          env: { ...process.env, BARE_API_ROOT: tgRoot, BARE_TOKEN: TG_TOKEN, BARE_REDIS_URL: REDIS_URL, BARE_PACER_KEY: `${prefix}:pace`, BARE_RATE: '1000', BARE_COUNT: String(per), BARE_FIRST_CHAT: String(900_000_000 + w * per), BARE_PAID: 'true' } as NodeJS.ProcessEnv,
          stdio: ['ignore', 'ignore', 'inherit'],
        });
        children.push(c);
        return c;
      });
      await Promise.all(bare.map(exitOf));
    });
    const span = sends.length > 1 ? (sends.at(-1)! - sends[0]!) / 1000 : 0;
    const achieved = span > 0 ? (sends.length - 1) / span : 0;
    rows.push(['baseline: bare sender + pacer (no DB, no queue)', '1000 msg/s', `${sends.length}/${per * WORKERS}`, '—', `${achieved.toFixed(1)} msg/s`, `${((achieved / 1000) * 100).toFixed(1)}%`, '—', String(peak(sends)), String(refused), load(), `${(cpu * 100).toFixed(0)}%`]);
    await deleteKeys(prefix);
    // The paid bucket refills before the next row.
    await new Promise((r) => setTimeout(r, 1500));
  }

  // BENCH_ONLY=0,2 runs a subset (indexes into the list above).
  const only = process.env.BENCH_ONLY?.split(',').map(Number);
  for (const s of scenarios.filter((_, i) => !only || only.includes(i))) {
    const prefix = `${KEY_MARK}-${randomBytes(3).toString('hex')}`;
    const env: Env = { ...baseEnv, ...s.env, QUEUE_PREFIX: `{${prefix}}`, REDIS_KEY_PREFIX: `${prefix}:` };
    const infra: Infrastructure = await createInfrastructure(loadConfig(env));
    const service = createBroadcastsFromInfra(infra);

    const requests: number[] = [];
    let vkRefused = 0;
    const refusedAt: number[] = [];
    let messages = 0;
    const vkCalls: Array<{ at: number; method: string; error?: number }> = [];
    const offVk = vk.onCall((c) => {
      if (!c.viaExecute) vkCalls.push({ at: c.at, method: c.method, ...(c.error ? { error: c.error.error_code } : {}) });
      if (c.viaExecute) {
        if (c.method === 'messages.send' && Array.isArray(c.response)) messages += (c.response as Array<{ error?: unknown }>).filter((p) => !p.error).length;
        return;
      }
      if (c.error?.error_code === 6) {
        vkRefused += 1;
        refusedAt.push(c.at);
      }
      else if (c.method === 'execute') requests.push(c.at);
    });

    const workers: ChildProcess[] = [];
    for (let i = 0; i < WORKERS; i++) {
      const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
      const c = spawn(process.execPath, [...prof, '--import', 'tsx', 'src/main.ts', 'worker'], { env: { ...process.env, ...env } as NodeJS.ProcessEnv, stdio: ['ignore', 'ignore', 'inherit'] });
      children.push(c);
      workers.push(c);
    }
    // Measure the send side, not process start-up: wait until both workers listen on the queue.
    const sendQueue = infra.queues.queue(SEND_QUEUE[s.platform]);
    const waitUntil = Date.now() + 180_000;
    while ((await sendQueue.getWorkersCount()) < WORKERS && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 250));
    await new Promise((r) => setTimeout(r, 1000));
    const { id } = await service.create({ title: s.name, text: { ru: s.text }, segment: { platforms: [s.platform] } });
    let figures = await service.status(id);
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
    const tgRun = await measureTelegram(async () => {
      await service.start(id);
      const started = Date.now();
      const deadline = started + (s.limitSeconds ? 15_000 + s.limitSeconds * 1000 : 600_000);
      const firstSend = (): number | undefined => (s.platform === 'telegram' ? undefined : requests[0]);
      let tgFirst: number | undefined;
      const offFirst = tg.onCall((c) => {
        if (tgFirst === undefined && c.token === TG_TOKEN && c.status === 200) tgFirst = c.at;
      });
      for (;;) {
        await new Promise((r) => setTimeout(r, 250));
        const st = await service.status(id);
        if (st.status === 'sent' || Date.now() > deadline) break;
        const first = s.platform === 'telegram' ? tgFirst : firstSend();
        if (s.limitSeconds && first !== undefined && Date.now() - first > s.limitSeconds * 1000) break;
      }
      offFirst();
      figures = await service.status(id);
      if (figures.status !== 'sent') await service.cancel(id);
    });
    for (const c of workers) c.kill('SIGTERM');
    await Promise.all(workers.map(exitOf));
    offVk();

    const stamps = s.platform === 'telegram' ? tgRun.sends : requests.sort((a, b) => a - b);
    const refused = s.platform === 'telegram' ? tgRun.refused : vkRefused;
    const windowMs = s.limitSeconds ? s.limitSeconds * 1000 : Math.max(1, stamps.at(-1)! - stamps[0]!);
    const counted = s.limitSeconds ? stamps.filter((t) => t - stamps[0]! < windowMs).length : stamps.length;
    // n events spaced at the cap span (n - 1) / cap seconds.
    const achieved = s.limitSeconds ? counted / (windowMs / 1000) : (counted - 1) / (windowMs / 1000);
    const few = !s.limitSeconds && counted < 5;
    if (process.env.BENCH_GAPS) {
      const gaps = stamps.slice(1).map((t, i) => ({ at: stamps[i]! - stamps[0]!, gap: t - stamps[i]! }));
      const big = gaps.filter((g) => g.gap > 5);
      const perSec = new Map<number, number>();
      for (const t of stamps) perSec.set(Math.floor((t - stamps[0]!) / 1000), (perSec.get(Math.floor((t - stamps[0]!) / 1000)) ?? 0) + 1);
      console.error(`GAPS ${s.name}: span ${(stamps.at(-1)! - stamps[0]!).toFixed(0)} ms; gaps>5ms: ${big.length} summing ${big.reduce((a, g) => a + g.gap, 0).toFixed(0)} ms; gaps>2ms sum ${gaps.filter((g) => g.gap > 2).reduce((a, g) => a + g.gap, 0).toFixed(0)} ms`);
      console.error('  biggest', [...big].sort((a, b) => b.gap - a.gap).slice(0, 15).map((g) => `${g.gap.toFixed(0)}@${g.at.toFixed(0)}`).join(' '));
      loopDelay.disable();
      console.error(`  this process's event loop (it runs the fakes): delay p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms, max ${(loopDelay.max / 1e6).toFixed(1)} ms`);
      console.error('  per second', [...perSec.values()].join(' '));
      for (const at of refusedAt) {
        const before = stamps.filter((t) => t <= at && t > at - 1000);
        console.error(`  calls in the second before: ${vkCalls.filter((c) => c.at <= at && c.at > at - 1000).map((c) => `${c.method}${c.error ? `!${c.error}` : ''}@${(c.at - stamps[0]!).toFixed(0)}`).join(' ')}`);
        console.error(`  refused at ${(at - stamps[0]!).toFixed(0)} ms: ${before.length} accepted in the second before it, the oldest ${before.length ? (at - before[0]!).toFixed(0) : '-'} ms earlier; the last 5 gaps before it ${before.slice(-6).map((t, i, a) => (i ? (t - a[i - 1]!).toFixed(0) : '')).filter(Boolean).join(' ')}`);
      }
      // The tightest window: the least time in which cap + 1 requests arrived (a strict sliding
      // second refuses the last of them when this is under 1000 ms).
      const spans: number[] = [];
      for (let i = 0; i + s.cap < stamps.length; i++) spans.push(stamps[i + s.cap]! - stamps[i]!);
      spans.sort((a, b) => a - b);
      if (spans.length) console.error(`  cap + 1 sends within: min ${spans[0]!.toFixed(1)} ms, 5 lowest ${spans.slice(0, 5).map((x) => x.toFixed(1)).join(' ')}`);
      const per100 = new Array(15).fill(0);
      for (const t of stamps) if (t - stamps[0]! < 1500) per100[Math.floor((t - stamps[0]!) / 100)] += 1;
      console.error('  first 1.5 s per 100 ms', per100.join(' '));
    }
    rows.push([
      s.name,
      `${s.cap} ${s.unit}`,
      `${figures.sent}/${figures.total}${figures.status === 'sent' ? '' : s.limitSeconds ? ` (${s.limitSeconds}s window)` : ' (timed out)'}`,
      s.platform === 'vk' ? String(requests.length) : '—',
      few ? '— (too few requests to time)' : `${achieved.toFixed(1)} ${s.unit}`,
      few ? '—' : `${((achieved / s.cap) * 100).toFixed(1)}%`,
      s.platform === 'vk' && !few ? `${(messages / (windowMs / 1000)).toFixed(0)} msg/s` : '—',
      String(peak(stamps)),
      String(refused),
      load(),
      `${(tgRun.cpu * 100).toFixed(0)}%`,
    ]);
    await infra.close();
    await deleteKeys(prefix);
  }
  await tg.close();
  await vk.close();
  await deleteKeys(`${KEY_MARK}-seed`);
  printTable();
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS "${DB}" WITH (FORCE)`);
  await c.end();
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  process.exit(1);
});
