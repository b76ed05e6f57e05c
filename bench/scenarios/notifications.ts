/**
 * Benchmark 3: order-status changes through the signed shop API to messages at the fake
 * Telegram, through Kabinet's web role (shop API → Notification rows → send queue) and worker
 * role (send worker under the global limiter → Telegram sender → the fake). The worker runs
 * as deployed, `src/main.ts worker` in a process of its own (until 2026-12-07 it ran inside the
 * bench process, beside the fakes, whose busy event loop made its pacer drop late slots).
 *
 * Each change concerns a different customer with one linked Telegram chat, so the fake's
 * 1 msg/s per-chat limit never applies and only the global cap is tested. The orders are
 * imported in one batch first (the batch import sends no messages); the identities are
 * linked as a fixture (the login flow is benchmark 1's business).
 */
import { performance } from 'node:perf_hooks';
import { createFakeTelegram } from '../../src/fakes/telegram/index.js';
import { signRequest } from '../../src/lib/signature.js';
import { createWeb } from '../../src/web.js';
import { SEND_QUEUE } from '../../src/notifications/send-queue.js';
import { startRole, waitForQueueWorkers } from '../lib/cluster.js';
import { pool } from '../lib/replies.js';
import { createPhase, SHOP_SECRET, type Phase } from '../lib/setup.js';

const TOKEN = '7100003:AAbench-kabinet-notifications';

export interface NotificationOptions {
  name: string;
  count: number;
  /** TELEGRAM_RATE_LIMIT for Kabinet's send queue. */
  ratePerSecond: number;
  /** The fake's Telegram limits on (30/s per bot, with 429 retry_after) or off. */
  fakeLimits: boolean;
  /** Status changes the shop has in flight at once. */
  shopConcurrency: number;
  /** Telegram user ids of this run's people start here (runs share one database). */
  userIdBase: number;
  /**
   * live: the worker runs while the shop posts (end-to-end latency). backlog: the shop posts
   * with the worker stopped, then the worker drains the queue (the send pipeline's own rate).
   */
  mode: 'live' | 'backlog';
}

export interface NotificationFigures {
  options: NotificationOptions;
  delivered: number;
  /** ms from the shop's POST to the message at the fake, per change. */
  latencies: number[];
  /** live: first POST to last message; backlog: the send queue's resume to the last message. */
  wallMs: number;
  /** First POST to the last POST answered. */
  apiMs: number;
  /** Most messages the fake accepted in any 1 s window. */
  peakPerSecond: number;
  /** ms from the first message at the fake to the last: the limiter's own pace, without the start-up. */
  firstToLastMs: number;
  /** 429 answers the fake gave to sendMessage. */
  tooManyRequests: number;
  rowsByStatus: Record<string, number>;
}

export async function signedPost(base: string, path: string, body: unknown): Promise<void> {
  const raw = JSON.stringify(body);
  const res = await fetch(`${base}/api/v1${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'kabinet-signature': signRequest(SHOP_SECRET, { method: 'POST', path: `/api/v1${path}`, body: raw }) },
    body: raw,
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`shop API ${path}: ${res.status} ${text.slice(0, 300)}`);
}

export function peakWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let peak = 0;
  for (let lo = 0, hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi]! - sorted[lo]! >= windowMs) lo++;
    peak = Math.max(peak, hi - lo + 1);
  }
  return peak;
}

export async function runNotificationBenchmark(options: NotificationOptions): Promise<NotificationFigures> {
  const fake = createFakeTelegram({ rateLimits: options.fakeLimits ? undefined : false, requireStart: false, recordCalls: false });
  const apiRoot = await fake.listen();
  fake.createBot({ token: TOKEN, username: 'bench_notify_bot' });
  const phase = await createPhase(options.name, { TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: apiRoot, TELEGRAM_RATE_LIMIT: String(options.ratePerSecond) });
  // The web role is only the shop API here: its bot is not started (no webhook, no polling).
  const web = await createWeb(phase);
  try {
    const base = await web.app.listen({ host: '127.0.0.1', port: 0 });
    const run = phase.prefix.slice(-6);
    const people = Array.from({ length: options.count }, (_, i) => {
      const user = fake.createUser({ id: options.userIdBase + i, firstName: `Buyer${i}`, languageCode: i % 2 ? 'en' : 'ru' });
      // +7 916 NNN NN NN: valid Russian mobiles, unique per run and person.
      const phone = `+7916${String(parseInt(run, 16) % 1000).padStart(3, '0')}${String(i).padStart(4, '0')}`;
      return { user, phone, number: `B-${run}-${i}` };
    });
    await importLinkedBuyers(phase.prisma, base, `bench-import-${run}`, people);

    const postedAt = new Map<string, number>();
    const arrivals: Array<{ chat: string; at: number }> = [];
    let tooManyRequests = 0;
    let allArrived: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => (allArrived = resolve));
    const off = fake.onCall((call) => {
      if (call.token !== TOKEN || call.method !== 'sendMessage') return;
      if (call.status === 429) tooManyRequests++;
      if (call.status !== 200) return;
      arrivals.push({ chat: String(call.params.chat_id), at: performance.now() });
      if (arrivals.length >= options.count) allArrived();
    });
    // The worker in its own process, on the send queue before anything is posted; in backlog
    // mode the queue is held while the shop posts, and the drain is timed from its resume.
    const worker = startRole('worker', { ...phase.env, PORT: '0' });
    const sendQueue = phase.queues.queue(SEND_QUEUE.telegram);
    await waitForQueueWorkers(sendQueue, 1, options.name);
    if (options.mode === 'backlog') await sendQueue.pause();
    const posting = performance.now();
    let started = posting;
    let apiMs = 0;
    try {
      await pool(people, options.shopConcurrency, async (p) => {
        postedAt.set(String(p.user.id), performance.now());
        await signedPost(base, `/orders/${p.number}/status`, {
          eventId: `bench-ship-${p.number}`,
          status: 'shipped',
          occurredAt: new Date().toISOString(),
          carrier: 'CDEK',
          trackingNumber: `TRK${p.number}`,
          trackingUrl: `https://track.example/${p.number}`,
        });
      });
      apiMs = performance.now() - posting;
      if (options.mode === 'backlog') {
        // Every change's job is in the queue before the drain starts.
        const jobsBy = Date.now() + 30_000;
        while ((await sendQueue.getJobCountByTypes('wait', 'prioritized', 'delayed')) < options.count && Date.now() < jobsBy) await new Promise((r) => setTimeout(r, 50));
        started = performance.now();
        await sendQueue.resume();
      }
      let timer: NodeJS.Timeout | undefined;
      const timeoutMs = 20_000 + (options.count / options.ratePerSecond) * 3000;
      await Promise.race([arrived, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
    } finally {
      off();
      if (options.mode === 'backlog') await sendQueue.resume();
    }
    // The worker records the outcome right after the send: let the last rows settle.
    const mine = { identity: { externalId: { in: people.map((p) => String(p.user.id)) } } };
    for (let i = 0; i < 100 && (await phase.prisma.notification.count({ where: { ...mine, status: 'pending' } })) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    // Its pumps and sweepers would otherwise go on polling a database the run is about to drop.
    await worker.stop();
    const last = arrivals.reduce((m, a) => Math.max(m, a.at), started);
    const grouped = await phase.prisma.notification.groupBy({ by: ['status'], where: mine, _count: true });
    return {
      options,
      delivered: arrivals.length,
      // In backlog mode the wait in the stopped queue is the bench's doing, not a latency.
      latencies: options.mode === 'live' ? arrivals.map((a) => a.at - (postedAt.get(a.chat) ?? NaN)) : [],
      wallMs: last - started,
      apiMs,
      peakPerSecond: peakWindow(arrivals.map((a) => a.at), 1000),
      firstToLastMs: arrivals.length > 1 ? last - arrivals.reduce((m, a) => Math.min(m, a.at), Infinity) : NaN,
      tooManyRequests,
      rowsByStatus: Object.fromEntries(grouped.map((g) => [g.status, g._count])),
    };
  } finally {
    await web.stop();
    await phase.close();
    await fake.close();
  }
}

/** Buyers with one paid order each, imported in one signed batch, each with a linked Telegram chat (a fixture: the login flow is not what the benches measure). */
export async function importLinkedBuyers(
  prisma: Phase['prisma'],
  base: string,
  eventId: string,
  people: ReadonlyArray<{ user: { id: number; language_code?: string }; phone: string; number: string }>,
): Promise<void> {
  await signedPost(base, '/orders/batch', {
    eventId,
    items: people.map((p) => ({
      number: p.number,
      customerPhone: p.phone,
      status: 'paid',
      itemsTotal: 2500,
      total: 2500,
      placedAt: new Date().toISOString(),
      items: [{ sku: 'KB-0001', name: 'Кружка', quantity: 1, price: 2500 }],
    })),
  });
  const customers = await prisma.customer.findMany({ where: { phone: { in: people.map((p) => p.phone) } }, select: { id: true, phone: true } });
  const idOf = new Map(customers.map((c) => [c.phone, c.id]));
  await prisma.channelIdentity.createMany({
    data: people.map((p) => ({ platform: 'telegram' as const, externalId: String(p.user.id), chatId: String(p.user.id), customerId: idOf.get(p.phone)!, linkedAt: new Date(), languageCode: p.user.language_code ?? 'ru' })),
  });
}
