/**
 * The per-platform send worker: renders a Notification in the customer's language and hands
 * it to the platform's OutboundSender, under the queue's global rate limiter and, on
 * Telegram, a per-chat pacer.
 *
 * At least once, with the repeat window as narrow as the platform allows. The row is the
 * record of truth, not the job:
 *  1. A row that is no longer pending is done: the job returns (a re-run sends nothing).
 *  2. Right before the platform call the row is claimed (`sendingAt` set by a conditional
 *     update on the value just read), and the outcome clears it in the same update that
 *     records sent/failed/blocked.
 *  3. A job that finds its row still pending with `sendingAt` set belongs to a worker that
 *     died (or stalled) between claim and outcome. It sends again:
 *     - VK: at once; random_id is derived from the notification id, so if the first attempt
 *       did reach VK, VK drops the repeat and the customer sees one message.
 *     - Telegram (no idempotency key): once the claim's lease (the sender's request timeout
 *       plus a margin) has run out, so a worker that is only slow, not dead, cannot be
 *       overtaken mid-request. The only possible repeat is a message Telegram accepted in
 *       the one round trip before the worker died.
 *  4. Refusals that prove nothing was sent (429, transient errors) release the claim, so the
 *     retry sends. A transient network error can hide a request that did arrive; that case
 *     is retried too (the same documented window).
 *  5. A failure before the claim (rendering threw, the database hiccupped) counts an attempt
 *     on the row; the last attempt marks it failed with the error, so the sweeper does not
 *     re-queue it forever.
 *  6. A 429 for one Telegram chat holds only that chat (the job is delayed until
 *     retry_after); several chats refused at once mean the bot-wide cap, and the whole queue
 *     waits. VK's limits are per token: a VK refusal always holds the queue.
 */
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { ChatPacer } from '../channels/chat-pacing.js';
import { slotMissed, type TokenPacer } from '../channels/token-pacer.js';
import { SendFailure, type OutboundSender, type Platform } from '../channels/outbound.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Clock } from '../infra/clock.js';
import { unavailableDependency } from '../infra/dependency-errors.js';
import type { Logger } from '../infra/logger.js';
import type { QueueFactory } from '../infra/queues.js';
import { PREFERENCE_BY_KIND, type NotificationKind } from './producer.js';
import { UUID_PATTERN } from '../lib/uuid.js';
import { STATUS_EVENT_SQL, type NotificationRenderer, type StatusEventRow } from './render.js';
import { NOTIFICATION_JOB, SEND_QUEUE, type SendJobData } from './send-queue.js';

export interface SendWorkerDeps {
  prisma: PrismaClient;
  queues: QueueFactory;
  logger: Logger;
  clock: Clock;
  render: NotificationRenderer;
  /** One sender per platform; a platform without a sender gets no worker. */
  senders: Map<Platform, OutboundSender>;
  /** Messages per second per platform (the global limiter across all workers). */
  ratePerSecond: Record<Platform, number>;
  /** Per-chat pacing per platform (Telegram: ~1 msg/s per chat); none when absent. */
  pacers?: Partial<Record<Platform, ChatPacer>>;
  /**
   * The bot token's shared pacer per platform (Telegram): every send takes a slot from it
   * at high priority, the same schedule broadcasts take theirs from at low priority. When
   * present it holds the cap; BullMQ's limiter then only bounds job intake.
   */
  tokenPacers?: Partial<Record<Platform, TokenPacer>>;
  /**
   * Platforms whose sender takes a slot of the token's shared pacer for each of its requests
   * itself (VK: `applyTokenPacer` on its vk-io client; a message can cost several requests).
   * As with a token pacer, the pacer holds the cap and BullMQ's limiter only bounds job intake.
   */
  pacedSenders?: Platform[];
  /**
   * How long a claim protects a send in flight on a platform without idempotency keys.
   * Default: the sender's request timeout + 5 s (a dead worker's row is resent after it).
   */
  claimLeaseMs?: number;
  /** Attempts a row may spend in all (across sweeper re-queues) before it is failed. Default: the job's attempts. */
  maxAttempts?: number;
  concurrency?: number;
  lockDurationMs?: number;
  /** Other job kinds sharing a platform's queue and limiter (broadcasts), by job name. */
  extraProcessors?: Partial<Record<Platform, Record<string, (job: Job, token?: string) => Promise<unknown>>>>;
}

export type SendOutcome = 'sent' | 'already_done' | 'missing' | 'blocked' | 'skipped' | 'nothing_to_send';

/** A notification with its identity and customer, as the send reads them. */
interface LoadedRow {
  status: string;
  sendingAt: Date | null;
  kind: string;
  payload: unknown;
  customerId: string | null;
  identityId: string;
  blockedAt: Date | null;
  chatId: string;
  identityCustomerId: string | null;
  languageCode: string | null;
  /** null when the notification has no customer. */
  language: string | null;
  notifyOrderUpdates: boolean | null;
  notifyStockAlerts: boolean | null;
  notifyLoyalty: boolean | null;
  /** An order status's event and card (null when it is gone or the id is not one). */
  statusEvent: StatusEventRow | null;
}

/** A reserved chat slot this close is due (timers and clocks between workers are not exact). */
const SLOT_TOLERANCE_MS = 25;
/** A reserved slot this far in the past was used or missed; the message takes a new one. */
const STALE_SLOT_MS = 1000;

const clip = (s: string) => (s.length > 500 ? `${s.slice(0, 497)}...` : s);
const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The processor for one platform; exported for tests that drive it directly. */
export function createSendProcessor(deps: Omit<SendWorkerDeps, 'senders' | 'ratePerSecond' | 'pacers' | 'tokenPacers' | 'pacedSenders'> & { sender: OutboundSender; pacer?: ChatPacer; tokenPacer?: TokenPacer }) {
  const { prisma, clock, logger, sender, pacer, tokenPacer } = deps;
  const queue = deps.queues.queue<SendJobData>(SEND_QUEUE[sender.platform]);
  const leaseMs = deps.claimLeaseMs ?? (sender.requestTimeoutMs ?? 30_000) + 5_000;

  const settle = (id: string, data: { status: 'sent' | 'failed' | 'blocked' | 'skipped'; error?: string | null; externalMessageId?: string; sentAt?: Date }) =>
    prisma.notification.updateMany({ where: { id }, data: { ...data, sendingAt: null } });
  /** Nothing went out: the claim and its attempt are given back (with the reason, when there is one). */
  const giveBack = (id: string, error?: string) =>
    prisma.notification.update({ where: { id }, data: { sendingAt: null, attempts: { decrement: 1 }, ...(error !== undefined ? { error: clip(error) } : {}) } });

  /** Puts the job back for later without spending an attempt and without holding a worker. */
  async function delay(job: Job<SendJobData>, token: string | undefined, ms: number): Promise<never> {
    await job.moveToDelayed(Date.now() + Math.max(1, Math.ceil(ms)), token);
    throw new DelayedError();
  }

  return async function process(job: Job<SendJobData>, token?: string): Promise<SendOutcome> {
    if (job.name !== NOTIFICATION_JOB) throw new UnrecoverableError(`unknown job ${job.name}`);
    const id = job.data.notificationId;
    // Only what the send needs, in one statement (Prisma's nested select took three), with an
    // order status's event and order card (the renderer's own read, one round trip less).
    const [row] = await prisma.$queryRaw<LoadedRow[]>`
      SELECT n.status::text AS status, n."sendingAt", n.kind, n.payload, n."customerId", n."identityId",
             i."blockedAt", i."chatId", i."customerId" AS "identityCustomerId", i."languageCode",
             c.language, c."notifyOrderUpdates", c."notifyStockAlerts", c."notifyLoyalty",
             (SELECT row_to_json(ev) FROM (${STATUS_EVENT_SQL}
                WHERE n.kind = 'order-status'
                  AND e.id = CASE WHEN n.payload->>'statusEventId' ~* ${UUID_PATTERN} THEN (n.payload->>'statusEventId')::uuid END) ev) AS "statusEvent"
      FROM notifications n
      JOIN channel_identities i ON i.id = n."identityId"
      LEFT JOIN customers c ON c.id = n."customerId"
      WHERE n.id = ${id}::uuid`;
    if (!row) return 'missing';
    const n = {
      ...row,
      identity: { blockedAt: row.blockedAt, chatId: row.chatId, customerId: row.identityCustomerId, languageCode: row.languageCode },
      customer: row.language === null ? null : { language: row.language, notifyOrderUpdates: row.notifyOrderUpdates!, notifyStockAlerts: row.notifyStockAlerts!, notifyLoyalty: row.notifyLoyalty! },
    };
    if (n.status !== 'pending') return 'already_done';
    if (n.sendingAt) {
      const leaseLeft = n.sendingAt.getTime() + leaseMs - clock.now().getTime();
      if (!sender.idempotent && leaseLeft > 0) return delay(job, token, leaseLeft);
      logger.warn({ notificationId: id, platform: sender.platform }, sender.idempotent
        ? 'notification was interrupted mid-send; resending (the platform drops a repeat)'
        : 'notification was interrupted mid-send; resending (it may arrive twice: Telegram has no idempotency key)');
    }

    let call;
    try {
      if (n.identity.blockedAt) {
        await settle(id, { status: 'blocked', error: 'identity blocked the bot' });
        return 'blocked';
      }
      // The customer may have switched this kind off or unlinked the identity since the event.
      const preference = PREFERENCE_BY_KIND[n.kind as NotificationKind];
      if (n.customer && ((preference && !n.customer[preference]) || n.identity.customerId !== n.customerId)) {
        await settle(id, { status: 'skipped', error: 'preference off or identity unlinked' });
        return 'skipped';
      }
      call = await deps.render({ kind: n.kind, payload: n.payload, chatId: n.identity.chatId, language: n.customer?.language ?? n.identity.languageCode, customerId: n.customerId, ...(n.kind === 'order-status' ? { statusEvent: row.statusEvent } : {}) });
      if (!call) {
        await settle(id, { status: 'skipped', error: 'subject no longer exists' });
        return 'nothing_to_send';
      }
    } catch (err) {
      // Counted on the row, so the limit holds across the sweeper's re-queues too.
      const row = await prisma.notification.update({ where: { id }, data: { attempts: { increment: 1 }, error: clip(`before sending: ${messageOf(err)}`) }, select: { attempts: true } });
      const cap = deps.maxAttempts ?? job.opts.attempts ?? 1;
      if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1) || row.attempts >= cap) {
        await settle(id, { status: 'failed', error: clip(`gave up after ${row.attempts} attempts: ${messageOf(err)}`) });
        throw new UnrecoverableError(messageOf(err));
      }
      throw err;
    }

    const chat = n.identity.chatId;
    if (pacer) {
      // A message keeps the slot it reserved; it reserves again only when it has none or
      // its slot has long passed (a retry after a failure, a job that waited in a backlog).
      const slotAt = job.data.slotAt;
      const held = slotAt !== undefined && Date.now() - slotAt < STALE_SLOT_MS ? slotAt : undefined;
      const wait = held !== undefined ? held - Date.now() : await pacer.reserve(chat);
      if (wait > SLOT_TOLERANCE_MS) {
        if (held === undefined) await job.updateData({ ...job.data, slotAt: Date.now() + wait });
        return delay(job, token, wait);
      }
    }

    // The bot-wide slot, ahead of any running broadcast's (see src/channels/token-pacer.ts).
    let slot = tokenPacer ? await tokenPacer.acquire('high') : undefined;
    const claimedAt = clock.now();
    // The claim and the outcome below are the send's two writes on every message: plain
    // statements (Prisma's updateMany plans each of them again, a fifth of the worker's CPU).
    const claimed = await prisma.$executeRaw`
      UPDATE notifications SET "sendingAt" = ${claimedAt}::timestamp(3), attempts = attempts + 1, "updatedAt" = ${claimedAt}::timestamp(3)
      WHERE id = ${id}::uuid AND status = 'pending' AND "sendingAt" IS NOT DISTINCT FROM ${n.sendingAt}::timestamp(3)`;
    if (claimed === 0) return 'already_done';
    // The claim is a round trip to PostgreSQL between the slot and the send: a slow one (a busy
    // database, this process stalled or held by its CPU quota) would send long after the slot,
    // bunched with the next ones (a 31st message in one second). A slot missed meanwhile is
    // given up for a new one, as the pacer does with a slot a stall made it miss.
    try {
      while (tokenPacer && slot !== undefined && slotMissed(slot)) slot = await tokenPacer.acquire('high');
    } catch (err) {
      // Redis away while taking the new slot: nothing went out, so the claim and its attempt are
      // given back (as after a 429) and the job's retry sends it, not the claim's lease later.
      await giveBack(id);
      throw err;
    }

    let result;
    try {
      result = await sender.send({ ...call, idempotencyKey: id });
    } catch (err) {
      const failure = err instanceof SendFailure ? err : new SendFailure('transient', messageOf(err));
      switch (failure.kind) {
        case 'rate_limited': {
          // Nothing went out: release the claim and give the attempt back.
          await giveBack(id, failure.message);
          const waitMs = Math.max(1, failure.retryAfterSeconds ?? 1) * 1000;
          if (pacer && !(await pacer.noteRateLimited(chat))) {
            // This chat's limit: hold the chat, let every other chat's messages go on. The
            // slot it held is spent; after the wait it reserves a new one behind the hold.
            await pacer.hold(chat, waitMs);
            await job.updateData({ notificationId: id });
            return delay(job, token, waitMs);
          }
          // The bot-wide cap (or a platform whose limits are per token): every worker waits,
          // and so do broadcast chunks already running (they take slots from the token pacer).
          if (tokenPacer) await tokenPacer.hold(waitMs);
          await queue.rateLimit(waitMs);
          throw Worker.RateLimitError();
        }
        case 'blocked': {
          const now = clock.now();
          await prisma.$transaction([
            prisma.channelIdentity.update({ where: { id: n.identityId }, data: { blockedAt: now } }),
            prisma.notification.update({ where: { id }, data: { status: 'blocked', error: clip(failure.message), sendingAt: null } }),
          ]);
          throw new UnrecoverableError(`blocked: ${failure.message}`);
        }
        case 'permanent':
          await settle(id, { status: 'failed', error: clip(failure.message) });
          throw new UnrecoverableError(`permanent: ${failure.message}`);
        case 'transient': {
          const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
          if (last) {
            await settle(id, { status: 'failed', error: clip(`gave up after ${job.attemptsMade + 1} attempts: ${failure.message}`) });
            throw new UnrecoverableError(failure.message);
          }
          await prisma.notification.update({ where: { id }, data: { sendingAt: null, error: clip(failure.message) } });
          throw failure;
        }
      }
    }
    // The platform took the message: its outcome must be written, or the row (pending, claimed)
    // is sent again once the claim's lease runs out. PostgreSQL away for a moment (a restart,
    // drill:postgres) is waited for within that lease, where no other worker sends it.
    const sentAt = clock.now();
    const deadline = Date.now() + leaseMs - 1_000 - (sentAt.getTime() - claimedAt.getTime());
    for (let wait = 250; ; wait = Math.min(wait * 2, 2_000)) {
      try {
        await prisma.$executeRaw`
          UPDATE notifications SET status = 'sent', error = NULL, "externalMessageId" = ${result.messageId ?? null}, "sentAt" = ${sentAt}::timestamp(3), "sendingAt" = NULL, "updatedAt" = ${sentAt}::timestamp(3)
          WHERE id = ${id}::uuid`;
        return 'sent';
      } catch (err) {
        if (!unavailableDependency(err) || Date.now() + wait > deadline) throw err;
        logger.warn({ notificationId: id, retryInMs: wait }, 'sent, but the outcome could not be written yet; retrying within the claim');
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  };
}

/** Spread in arrival times the limiter leaves room for (grant → request at the platform). */
export const LIMITER_JITTER_MS = 20;

/**
 * BullMQ's limiter counts jobs in fixed windows (`max` per `duration` ms), and two windows'
 * jobs can start a millisecond apart across their boundary: a sliding span of S ms sees up
 * to max × (⌊S/duration⌋ + 1) jobs. This picks the smoothest setting (fewest jobs per
 * window) under which no span of 1000 + LIMITER_JITTER_MS ms exceeds the cap, so the
 * platform's strict second never counts cap + 1 even when requests arrive a little unevenly,
 * while the steady rate stays at 95% of the cap or more (30/s → 1 per 35 ms = 28.6/s;
 * 20/s → 1 per 52 ms = 19.2/s; 1000/s → 19 per 20 ms = 950/s).
 */
export function smoothLimiter(ratePerSecond: number): { max: number; duration: number } {
  const cap = Math.max(1, Math.floor(ratePerSecond));
  const span = 1000 + LIMITER_JITTER_MS;
  let best = { max: 1, duration: span + 1 };
  let bestRate = 0;
  for (let max = 1; max <= cap; max++) {
    let duration = 1;
    while (max * (Math.floor(span / duration) + 1) > cap) duration++;
    const rate = (max * 1000) / duration;
    if (rate > bestRate) {
      best = { max, duration };
      bestRate = rate;
    }
    if (rate >= 0.95 * cap) break;
  }
  return best;
}

/** Roughly a tenth of a second's worth of sends in flight, between 10 and 100. */
export function sendConcurrency(ratePerSecond: number): number {
  return Math.min(100, Math.max(10, Math.ceil(ratePerSecond / 10)));
}

/** Starts one worker per platform that has a sender. Returns them for closing. */
export function startSendWorkers(deps: SendWorkerDeps): Worker[] {
  const workers: Worker[] = [];
  for (const [platform, sender] of deps.senders) {
    const pacer = deps.pacers?.[platform];
    const tokenPacer = deps.tokenPacers?.[platform];
    const own = createSendProcessor({ ...deps, sender, ...(pacer ? { pacer } : {}), ...(tokenPacer ? { tokenPacer } : {}) });
    // Broadcast jobs share the platform's queue and limiter; notifications stay this processor.
    const extra = deps.extraProcessors?.[platform];
    const processor = extra ? (job: Job<SendJobData>, token?: string) => (extra[job.name] ? extra[job.name]!(job, token) : own(job, token)) : own;
    const lockDuration = deps.lockDurationMs ?? 30_000;
    workers.push(
      deps.queues.worker<SendJobData>(SEND_QUEUE[platform], processor, {
        // Enough sends in flight to reach the cap (each waits on the platform's answer).
        concurrency: deps.concurrency ?? sendConcurrency(deps.ratePerSecond[platform]),
        // Global across every worker process: the platform's cap with a small margin, spread
        // evenly (a fixed 1-second window lets up to twice the cap through across a boundary).
        // With a token pacer (here or in the sender), the pacer spaces every message or request
        // (a broadcast job carries many) and this only bounds how many jobs start per second
        // (and carries queue.rateLimit).
        limiter: tokenPacer || deps.pacedSenders?.includes(platform) ? { max: Math.max(1, Math.floor(deps.ratePerSecond[platform])), duration: 1000 } : smoothLimiter(deps.ratePerSecond[platform]),
        lockDuration,
        stalledInterval: lockDuration,
        maxStalledCount: 2,
      }) as unknown as Worker,
    );
  }
  return workers;
}
