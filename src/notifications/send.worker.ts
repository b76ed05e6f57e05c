/**
 * The per-platform send worker: renders a Notification in the customer's language and hands
 * it to the platform's OutboundSender, under the queue's global rate limiter.
 *
 * At most once, and not lost: the row is the record of truth, not the job.
 *  1. A row that is no longer pending is done: the job returns (a re-run sends nothing).
 *  2. Right before the platform call the row is claimed (`sendingAt` set, conditional update
 *     on status=pending and sendingAt=null), and the outcome clears it in the same update
 *     that records sent/failed/blocked.
 *  3. A job that finds its row still pending with `sendingAt` set belongs to a worker that
 *     died between claim and outcome: the message may or may not have reached the platform
 *     (Telegram has no idempotency key to ask). We choose at-most-once: the row becomes
 *     failed with "outcome_unknown" and nothing is sent again. The window is one HTTP round
 *     trip; a worker killed anywhere else (before the claim, waiting in the queue, after the
 *     outcome) loses nothing and sends nothing twice: BullMQ gives the stalled job to another
 *     worker, which either sends it (unclaimed) or sees it done.
 *  4. Refusals that prove nothing was sent (429, transient errors) release the claim, so the
 *     retry sends. A transient network error can hide a request that did arrive; that case is
 *     retried (one of the rare duplicates we accept rather than dropping every message on a
 *     timeout).
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { SendFailure, type OutboundSender, type Platform } from '../channels/outbound.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { QueueFactory } from '../infra/queues.js';
import { PREFERENCE_BY_KIND, type NotificationKind } from './producer.js';
import type { NotificationRenderer } from './render.js';
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
  concurrency?: number;
  lockDurationMs?: number;
  /** Other job kinds sharing a platform's queue and limiter (broadcasts), by job name. */
  extraProcessors?: Partial<Record<Platform, Record<string, (job: Job, token?: string) => Promise<unknown>>>>;
}

export type SendOutcome = 'sent' | 'already_done' | 'missing' | 'blocked' | 'skipped' | 'outcome_unknown' | 'nothing_to_send';

const clip = (s: string) => (s.length > 500 ? `${s.slice(0, 497)}...` : s);

/** The processor for one platform; exported for tests that drive it directly. */
export function createSendProcessor(deps: Omit<SendWorkerDeps, 'senders' | 'ratePerSecond'> & { sender: OutboundSender }) {
  const { prisma, clock, logger, sender } = deps;
  const queue = deps.queues.queue<SendJobData>(SEND_QUEUE[sender.platform]);

  const settle = (id: string, data: { status: 'sent' | 'failed' | 'blocked' | 'skipped'; error?: string | null; externalMessageId?: string; sentAt?: Date }) =>
    prisma.notification.update({ where: { id }, data: { ...data, sendingAt: null } });

  return async function process(job: Job<SendJobData>): Promise<SendOutcome> {
    if (job.name !== NOTIFICATION_JOB) throw new UnrecoverableError(`unknown job ${job.name}`);
    const id = job.data.notificationId;
    const n = await prisma.notification.findUnique({ where: { id }, include: { identity: true, customer: true } });
    if (!n) return 'missing';
    if (n.status !== 'pending') return 'already_done';
    if (n.sendingAt) {
      logger.warn({ notificationId: id }, 'notification was interrupted mid-send; not sending again (at most once)');
      await settle(id, { status: 'failed', error: 'outcome_unknown: the worker stopped between sending and recording the result' });
      return 'outcome_unknown';
    }
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
    const call = await deps.render({ kind: n.kind, payload: n.payload, chatId: n.identity.chatId, language: n.customer?.language ?? n.identity.languageCode, customerId: n.customerId });
    if (!call) {
      await settle(id, { status: 'skipped', error: 'subject no longer exists' });
      return 'nothing_to_send';
    }

    const claimed = await prisma.notification.updateMany({ where: { id, status: 'pending', sendingAt: null }, data: { sendingAt: clock.now(), attempts: { increment: 1 } } });
    if (claimed.count === 0) return 'already_done';

    let result;
    try {
      result = await sender.send(call);
    } catch (err) {
      const failure = err instanceof SendFailure ? err : new SendFailure('transient', err instanceof Error ? err.message : String(err));
      switch (failure.kind) {
        case 'rate_limited': {
          // Nothing went out: release the claim, hold the whole queue (every worker) for
          // retry_after, and put the job back without spending an attempt.
          await prisma.notification.update({ where: { id }, data: { sendingAt: null, error: clip(failure.message) } });
          const waitMs = Math.max(1, failure.retryAfterSeconds ?? 1) * 1000;
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
    await settle(id, { status: 'sent', error: null, externalMessageId: result.messageId, sentAt: clock.now() });
    return 'sent';
  };
}

/**
 * BullMQ's limiter counts in fixed windows; one job per 1000/rate ms keeps every sliding
 * second at or under the cap (30/s → one send every 34 ms).
 */
export function smoothLimiter(ratePerSecond: number): { max: number; duration: number } {
  return ratePerSecond >= 1000 ? { max: Math.round(ratePerSecond / 1000), duration: 1 } : { max: 1, duration: Math.ceil(1000 / ratePerSecond) };
}

/** Roughly a tenth of a second's worth of sends in flight, between 10 and 100. */
export function sendConcurrency(ratePerSecond: number): number {
  return Math.min(100, Math.max(10, Math.ceil(ratePerSecond / 10)));
}

/** Starts one worker per platform that has a sender. Returns them for closing. */
export function startSendWorkers(deps: SendWorkerDeps): Worker[] {
  const workers: Worker[] = [];
  for (const [platform, sender] of deps.senders) {
    const own = createSendProcessor({ ...deps, sender });
    const extra = deps.extraProcessors?.[platform];
    const processor = extra ? (job: Job<SendJobData>, token?: string) => (extra[job.name] ? extra[job.name]!(job, token) : own(job)) : own;
    const lockDuration = deps.lockDurationMs ?? 30_000;
    workers.push(
      deps.queues.worker<SendJobData>(SEND_QUEUE[platform], processor, {
        // Enough sends in flight to reach the cap (each waits on the platform's answer).
        concurrency: deps.concurrency ?? sendConcurrency(deps.ratePerSecond[platform]),
        // Global across every worker process: the platform's cap, spread evenly (a fixed
        // 1-second window lets up to twice the cap through across a window boundary).
        limiter: smoothLimiter(deps.ratePerSecond[platform]),
        lockDuration,
        stalledInterval: lockDuration,
        maxStalledCount: 2,
      }) as unknown as Worker,
    );
  }
  return workers;
}
