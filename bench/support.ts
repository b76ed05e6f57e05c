/**
 * npm run bench:support — the operator side, on loopback, in a bounded run (issue 9):
 *
 * 1. relay latency customer → staff topic and operator → customer, Telegram and VK customers,
 *    through the real web role (customer webhook, VK callback, staff webhook) and worker role
 *    (the staff-group queue), with the group's budget not in the way (latency only);
 * 2. the drain time of a 60-customer burst into one staff group against the per-group limit,
 *    with the fake enforcing it (429 beyond). The window is scaled (BENCH_SUPPORT_WINDOW_MS,
 *    default 6 s instead of Telegram's 60 s) so the run stays short; the drain scales with it.
 *
 * Latency = from the moment the fake queues the person's update (its webhook POST leaves in the
 * same tick) to the moment the fake answered the relayed send. Samples are sequential (one
 * message in flight), so each figure is the relay itself, not queueing behind other messages.
 * Baseline in the same run: the bare send to the customer (the customer messenger the worker
 * uses, called directly: the platform round trip with no webhook, database or queue), so
 * "operator → customer" minus it is what Kabinet adds. The load average is printed with the
 * figures (a loaded machine inflates them).
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createFakeTelegram, type FakeTelegram } from '../src/fakes/telegram/index.js';
import { createFakeVk } from '../src/fakes/vk/index.js';
import { ensureDatabase, migrate } from '../src/infra/migrator.js';
import { createWeb } from '../src/web.js';
import { createWorkerRole } from '../src/worker.js';
import { TELEGRAM_WEBHOOK_PATH } from '../src/channels/telegram/webhook.plugin.js';
import { VK_CALLBACK_PATH } from '../src/channels/vk/vk-customer-bot.js';
import { STAFF_WEBHOOK_PATH } from '../src/staff/webhook.plugin.js';
import { createIdentitiesService } from '../src/domain/customers/identities.js';
import { createSupportService } from '../src/domain/support/support.service.js';
import { createStaffGroupPoster } from '../src/staff/staff-posts.js';
import { telegramCustomerMessenger, vkCustomerMessenger, type CustomerMessenger } from '../src/staff/customer-delivery.js';
import { vkChannelFromInfra } from '../src/channels/vk/vk-customer-bot.js';
import type { Recipient } from '../src/domain/support/support.service.js';
import { createPhase, DATABASE_NAME, databaseUrl, freePort, machine } from './lib/setup.js';
import { ms, summarize, table } from './lib/stats.js';
import pg from 'pg';

const BUDGET_MS = 240_000;
/** kabinet_bench_support, or kabinet_bench_<BENCH_RUN>_support. */
const DB = `${DATABASE_NAME}_support`;
const load = () => loadavg().map((n) => n.toFixed(2)).join(' / ');
const SAMPLES = Number(process.env.BENCH_SUPPORT_SAMPLES ?? 100);
/** One VK relay round (question and answer) at most every this often: under VK's 20 requests/s. */
const VK_PACE_MS = 125;
const BURST = Number(process.env.BENCH_SUPPORT_BURST ?? 60);
const WINDOW_MS = Number(process.env.BENCH_SUPPORT_WINDOW_MS ?? 6000);
const TG = '7100011:AAbench-support-customer-bot';
const STAFF = '7100012:AAbench-support-staff-bot';
const TG_SECRET = 'bench-support-tg-secret';
const STAFF_SECRET = 'bench-support-staff-secret';
const VK_GROUP = 7012;
const VK_TOKEN = 'bench-support-vk-token';

const watchdog = setTimeout(() => {
  console.error(`bench:support still running after ${BUDGET_MS / 1000} s; giving up`);
  process.exit(2);
}, BUDGET_MS);
watchdog.unref();

const began = performance.now();
const log = (line: string) => console.log(`[${((performance.now() - began) / 1000).toFixed(1)} s] ${line}`);

async function freshDatabase(): Promise<string> {
  const admin = new pg.Client({ connectionString: databaseUrl('postgres') });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${DB}" WITH (FORCE)`);
  await admin.end();
  const url = databaseUrl(DB);
  await ensureDatabase(url);
  await migrate(url, 'prisma/migrations');
  return url;
}

async function dropDatabase(): Promise<void> {
  const admin = new pg.Client({ connectionString: databaseUrl('postgres') });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${DB}" WITH (FORCE)`);
  await admin.end();
}

/** Resolves with performance.now() of the next call matching `match` that the fake answered 200. */
function nextCall(tg: FakeTelegram, match: (c: { token: string; method: string; params: Record<string, unknown>; status: number }) => boolean, timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error('timed out waiting for a relayed message'));
    }, timeoutMs);
    const off = tg.onCall((call) => {
      if (call.status === 200 && match(call as never)) {
        clearTimeout(timer);
        off();
        resolve(performance.now());
      }
    });
  });
}

interface Phase { tg: FakeTelegram; close(): Promise<void> }

async function run(options: { name: string; fakeGroupLimit: boolean; env: Record<string, string> }) {
  const tg = createFakeTelegram({
    rateLimits: options.fakeGroupLimit ? { global: { burst: 1000, perSecond: 1000 }, privateChat: { burst: 1000, perSecond: 1000 }, group: { burst: 20, perSecond: 20 / (WINDOW_MS / 1000) } } : false,
    recordCalls: false,
    requireStart: false,
    webhookRetry: { baseDelayMs: 20, maxAttempts: 5 },
  });
  const apiRoot = await tg.listen();
  tg.createBot({ token: TG, username: 'bench_support_bot' });
  const staffBot = tg.createBot({ token: STAFF, username: 'bench_staff_bot' });
  const operator = tg.createUser({ firstName: 'Olga', languageCode: 'ru' });
  const group = tg.createGroup({ title: 'Bench support', isForum: true, members: [staffBot.id, operator.id] });
  const vk = createFakeVk({ rateLimit: false, recordCalls: false });
  const vkBase = await vk.listen();
  vk.createGroup({ id: VK_GROUP, token: VK_TOKEN, confirmationCode: 'bench-confirm', secret: 'bench-vk-secret', name: 'Bench VK' });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const phase = await createPhase(options.name, {
    DATABASE_URL: databaseUrl(DB),
    PORT: String(port),
    TELEGRAM_BOT_TOKEN: TG,
    TELEGRAM_API_ROOT: apiRoot,
    TELEGRAM_WEBHOOK_URL: `${base}${TELEGRAM_WEBHOOK_PATH}`,
    TELEGRAM_WEBHOOK_SECRET: TG_SECRET,
    VK_GROUP_ID: String(VK_GROUP),
    VK_GROUP_TOKEN: VK_TOKEN,
    VK_API_BASE_URL: vkBase,
    VK_CALLBACK_SECRET: 'bench-vk-secret',
    VK_CONFIRMATION_CODE: 'bench-confirm',
    STAFF_BOT_TOKEN: STAFF,
    STAFF_CHAT_ID: String(group.id),
    STAFF_WEBHOOK_URL: `${base}${STAFF_WEBHOOK_PATH}`,
    STAFF_WEBHOOK_SECRET: STAFF_SECRET,
    HOST: '127.0.0.1',
    ...options.env,
  });
  const web = await createWeb(phase);
  await web.start();
  await vk.setCallbackUrl(VK_GROUP, `${base}${VK_CALLBACK_PATH}`);
  const worker = await createWorkerRole(phase);
  await worker.start();
  const support = createSupportService({ prisma: phase.prisma, clock: phase.clock });
  const identities = createIdentitiesService({ prisma: phase.prisma, clock: phase.clock, resolveLanguage: () => 'ru' });
  const poster = createStaffGroupPoster({ queues: phase.queues, support, chatIds: [String(group.id)] });

  /** Customers with a conversation open and its topic created. */
  async function openCustomers(platform: 'telegram' | 'vk', count: number, idBase: number) {
    const out = [];
    for (let i = 0; i < count; i++) {
      const id = idBase + i;
      if (platform === 'telegram') tg.createUser({ id, firstName: `Buyer${i}`, languageCode: 'ru' });
      else vk.createUser({ id, firstName: `Buyer${i}`, langId: 0 });
      const identity = await identities.touch({ platform, externalId: String(id), chatId: String(id), firstName: `Buyer${i}`, languageCode: 'ru' });
      const opened = (await support.customerWrites(identity.identityId, { text: `hello ${i}` }, { open: true }))!;
      out.push({ id, conversationId: opened.conversationId });
    }
    return out;
  }

  const phaseHandle: Phase = {
    tg,
    async close() {
      await web.stop();
      await worker.stop();
      await phase.close();
      await tg.close();
      await vk.close();
    },
  };
  // The baseline: the same messengers the operator-reply worker sends through, called directly.
  const messengers: Record<'telegram' | 'vk', CustomerMessenger> = {
    telegram: telegramCustomerMessenger({ token: TG, apiRoot }),
    vk: vkCustomerMessenger(vkChannelFromInfra(phase).bridge),
  };
  return { ...phaseHandle, vk, group, operator, support, poster, openCustomers, phase, messengers };
}

console.log(`Kabinet support benchmarks — ${new Date().toISOString()}`);
console.log(`Machine: ${machine()}; load average (1/5/15 min) at start: ${load()}`);
console.log(`Sizes: ${SAMPLES} sequential relays per direction and messenger; burst of ${BURST} customers; group window ${WINDOW_MS} ms (Telegram: 60000)\n`);

await freshDatabase();
log(`database ${DB} migrated`);

// ───── 1. latency ─────
log('1. relay latency (group budget not in the way)');
const lat = await run({ name: 'support-latency', fakeGroupLimit: false, env: { STAFF_GROUP_RATE_LIMIT: '1000' } });
const rows: string[][] = [['1. relay (sequential)', 'messenger', 'samples', 'p50', 'p95', 'p99', 'max']];
for (const platform of ['telegram', 'vk'] as const) {
  const customers = await lat.openCustomers(platform, 20, platform === 'telegram' ? 910_000_000 : 920_000_000);
  for (const c of customers) await lat.poster.relay(c.conversationId);
  // Topics exist once every opening message is posted.
  for (let i = 0; i < 500; i++) {
    if ((await lat.phase.prisma.supportMessage.count({ where: { conversationId: { in: customers.map((c) => c.conversationId) }, deliveryStatus: 'pending' } })) === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const topics = new Map<number, number>();
  for (const c of customers) {
    const conv = await lat.phase.prisma.supportConversation.findUniqueOrThrow({ where: { id: c.conversationId } });
    topics.set(c.id, Number(conv.staffThreadId));
  }
  const inbound: number[] = [];
  const outbound: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    const started = performance.now();
    const c = customers[s % customers.length]!;
    const text = `${platform} question ${s}`;
    const seen = nextCall(lat.tg, (call) => call.token === STAFF && call.method === 'sendMessage' && call.params.text === text);
    const t0 = performance.now();
    if (platform === 'telegram') lat.tg.sendText(TG, c.id, text);
    else lat.vk.sendText(VK_GROUP, c.id, text);
    inbound.push((await seen) - t0);

    const answer = `answer ${platform} ${s}`;
    let arrived: Promise<number>;
    if (platform === 'telegram') arrived = nextCall(lat.tg, (call) => call.token === TG && call.method === 'sendMessage' && String(call.params.chat_id) === String(c.id));
    else {
      arrived = new Promise((resolve) => {
        const off = lat.vk.onCall((call) => {
          if (call.method === 'messages.send' && String(call.params.peer_ids ?? call.params.peer_id) === String(c.id) && !call.error) {
            off();
            resolve(performance.now());
          }
        });
      });
    }
    const t1 = performance.now();
    lat.tg.sendText(STAFF, lat.operator.id, answer, { chatId: lat.group.id, threadId: topics.get(c.id)! });
    outbound.push((await arrived) - t1);
    // Measure the relay, not VK's cap: back to back, the loop would spend more than the
    // community token's 20 requests a second and wait on the shared budget. Keep to 8 a second.
    if (platform === 'vk') await new Promise((r) => setTimeout(r, Math.max(0, VK_PACE_MS - (performance.now() - started))));
  }
  // Baseline: the bare send to the same customers, sequential, paced like the relay on VK.
  const bare: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    const started = performance.now();
    const c = customers[s % customers.length]!;
    const to: Recipient = { identityId: '', platform, chatId: String(c.id), language: 'ru', blocked: false };
    await lat.messengers[platform].sendText(to, `bare ${platform} ${s}`);
    bare.push(performance.now() - started);
    if (platform === 'vk') await new Promise((r) => setTimeout(r, Math.max(0, VK_PACE_MS - (performance.now() - started))));
  }
  const a = summarize(inbound);
  const b = summarize(outbound);
  const z = summarize(bare);
  rows.push(['customer → topic', platform, String(a.count), ms(a.p50), ms(a.p95), ms(a.p99), ms(a.max)]);
  rows.push(['operator → customer', platform, String(b.count), ms(b.p50), ms(b.p95), ms(b.p99), ms(b.max)]);
  rows.push(['  baseline: bare send', platform, String(z.count), ms(z.p50), ms(z.p95), ms(z.p99), ms(z.max)]);
  log(`  ${platform}: done`);
}
await lat.close();

// ───── 2. burst drain ─────
log(`2. burst of ${BURST} customers into one staff group, fake enforcing 20 per ${WINDOW_MS} ms`);
const burst = await run({ name: 'support-burst', fakeGroupLimit: true, env: { STAFF_GROUP_RATE_LIMIT: '20', STAFF_GROUP_RATE_WINDOW_MS: String(WINDOW_MS) } });
let refused = 0;
let posted = 0;
let lastAt = 0;
const off = burst.tg.onCall((call) => {
  if (call.token !== STAFF || !String(call.params.chat_id).startsWith('-') || !call.method.startsWith('send')) return;
  if (call.status === 429) refused++;
  if (call.status === 200) {
    posted++;
    lastAt = performance.now();
  }
});
const customers = await burst.openCustomers('telegram', BURST, 930_000_000);
const t0 = performance.now();
await Promise.all(customers.map((c) => burst.poster.relay(c.conversationId)));
const ids = customers.map((c) => c.conversationId);
for (;;) {
  const pending = await burst.phase.prisma.supportMessage.count({ where: { conversationId: { in: ids }, deliveryStatus: 'pending' } });
  if (pending === 0) break;
  if (performance.now() - t0 > BUDGET_MS - 30_000) throw new Error(`burst not drained: ${pending} pending`);
  await new Promise((r) => setTimeout(r, 50));
}
const drainMs = lastAt - t0;
off();
const lost = await burst.phase.prisma.supportMessage.count({ where: { conversationId: { in: ids }, deliveryStatus: { not: 'sent' } } });
await burst.close();
await dropDatabase();
log('done\n');

console.log(table(rows));
console.log('');
const ideal = (Math.max(0, BURST - 20) / 20) * WINDOW_MS;
console.log(table([
  ['2. burst drain', 'customers', 'posts', '429 from the fake', 'lost', 'drain', 'ideal at the limit', 'drain at 20/min (scaled)'],
  [`20 per ${WINDOW_MS} ms`, String(BURST), String(posted), String(refused), String(lost), ms(drainMs), ms(ideal), `${((drainMs * 60_000) / WINDOW_MS / 1000).toFixed(0)} s`],
]));
console.log(`\nLoad average (1/5/15 min) at the end: ${load()}.`);
console.log('"operator → customer": the operator\'s message in the topic → stored → queued → the worker\'s send answered by the fake. "baseline: bare send": that send alone, called directly.');
console.log('Goal: p99 under 300 ms for the relay itself; the burst drains at the group limit with no 429 and nothing lost.');
process.exit(0);
