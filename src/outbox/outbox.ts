/**
 * Delivering the outbox to the shop. The OutboxEvent row is the truth; BullMQ only carries
 * "try row X now". Each attempt is its own job, id "<rowId>-a<attempt>", so:
 *  - dispatch after commit and the sweeper can both add the same attempt: BullMQ keeps one;
 *  - an attempt's job only acts if the row is still pending at that attempt number, so a
 *    stalled job re-run after a crash cannot double-count;
 *  - the next attempt is a delayed job at `nextAttemptAt`; if its add is lost (crash), the
 *    sweeper re-adds it once the time has passed.
 * Webhooks are delivered at least once (a crash after the shop answered 2xx but before the
 * row was marked repeats the POST); the envelope's `id` lets the shop drop the repeat.
 *
 * An attempt owns its row until it ends: the claim moves `nextAttemptAt` past the attempt's
 * own timeout (a lease), so the sweeper cannot start a second attempt while the first is still
 * waiting for a slow endpoint. The outcome is written only if the row is still at this
 * attempt, so a late result never overwrites a newer one (nor a delivered row).
 */
import { randomUUID } from 'node:crypto';
import type { Job } from 'bullmq';
import type { OutboxEvent, PrismaClient } from '../generated/prisma/client.js';
import type { OutboxStatus } from '../generated/prisma/enums.js';
import type { Clock } from '../infra/clock.js';
import type { Infrastructure } from '../infra/infrastructure.js';
import type { Logger } from '../infra/logger.js';
import type { QueueFactory } from '../infra/queues.js';
import { signPayload, SIGNATURE_HEADER } from '../lib/signature.js';
import { QueueName } from '../queues/names.js';
import { DomainError } from '../errors.js';

export interface OutboxSettings {
  webhookUrl: string | undefined;
  /** Each signs one `v1` (two while the shop rotates: SHOP_WEBHOOK_SECRET="old,new"). */
  secrets: readonly string[];
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  timeoutMs: number;
}

export interface OutboxDeps {
  prisma: PrismaClient;
  queues: QueueFactory;
  logger: Logger;
  clock: Clock;
  settings: OutboxSettings;
  /** Injectable for tests; defaults to Math.random. */
  random?: () => number;
}

export interface OutboxJobData {
  outboxId: string;
  attempt: number;
}

export const OUTBOX_JOB = 'deliver';
export const attemptJobId = (outboxId: string, attempt: number) => `${outboxId}-a${attempt}`;

/** Exponential backoff with "equal jitter": half fixed, half random, capped. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/** The JSON the shop receives; `id` is stable across retries (the shop's dedup key). */
export function webhookEnvelope(row: Pick<OutboxEvent, 'id' | 'eventType' | 'payload' | 'createdAt'>): string {
  return JSON.stringify({ id: row.id, type: row.eventType, createdAt: row.createdAt.toISOString(), data: row.payload });
}

/** How long past its timeout an attempt keeps its row: covers the writes after the POST. */
export const LEASE_MARGIN_MS = 30_000;

export type Outbox = ReturnType<typeof createOutbox>;

/** The outbox as configured (SHOP_WEBHOOK_URL, SHOP_API_SECRET, OUTBOX_*): web, worker and bots share this. */
export function createOutboxFromInfra(infra: Pick<Infrastructure, 'config' | 'prisma' | 'queues' | 'logger' | 'clock'>): Outbox {
  const { config, prisma, queues, logger, clock } = infra;
  return createOutbox({ prisma, queues, logger, clock, settings: { webhookUrl: config.shop.webhookUrl, secrets: config.shop.webhookSecrets, ...config.outbox } });
}

export function createOutbox(deps: OutboxDeps) {
  const { prisma, clock, logger, settings } = deps;
  const random = deps.random ?? Math.random;
  const queue = () => deps.queues.queue<OutboxJobData>(QueueName.outbox, { removeOnComplete: { age: 24 * 3600, count: 10_000 }, removeOnFail: { age: 7 * 24 * 3600 } });

  async function schedule(outboxId: string, attempt: number, at: Date): Promise<void> {
    const delay = Math.max(0, at.getTime() - clock.now().getTime());
    await queue().add(OUTBOX_JOB, { outboxId, attempt }, { jobId: attemptJobId(outboxId, attempt), delay, attempts: 1 });
  }

  /** POSTs one signed envelope; the outcome, never a throw. */
  async function post(body: string, id: string, type: string): Promise<{ statusCode: number | null; error: string | null }> {
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const response = await fetch(settings.webhookUrl!, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signPayload(settings.secrets, body, clock.now()), 'Kabinet-Event-Id': id, 'Kabinet-Event-Type': type },
        body,
        signal: AbortSignal.timeout(settings.timeoutMs),
        redirect: 'manual',
      });
      statusCode = response.status;
      await response.body?.cancel().catch(() => undefined);
      if (!response.ok) error = `HTTP ${response.status}`;
    } catch (err) {
      error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    return { statusCode, error };
  }

  /** One attempt for one row. Returns what happened, for logs and tests. */
  async function deliver(outboxId: string, attempt: number): Promise<'delivered' | 'retry' | 'dead' | 'skipped'> {
    const row = await prisma.outboxEvent.findUnique({ where: { id: outboxId } });
    if (!row || row.status !== 'pending' || row.attempts !== attempt) return 'skipped';
    if (!settings.webhookUrl || settings.secrets.length === 0) {
      // Nowhere to send yet: keep the row pending; the sweeper tries again later.
      logger.warn({ outboxId }, 'SHOP_WEBHOOK_URL or SHOP_WEBHOOK_SECRET/SHOP_API_SECRET not set; outbox row waits');
      return 'skipped';
    }
    const next = attempt + 1;
    // Claim this attempt before the POST, with a lease past its timeout: a re-run of the same
    // job sees attempts moved on, and the sweeper leaves the row alone while the POST is open.
    const lease = new Date(clock.now().getTime() + settings.timeoutMs + LEASE_MARGIN_MS);
    const claimed = await prisma.outboxEvent.updateMany({ where: { id: outboxId, status: 'pending', attempts: attempt }, data: { attempts: next, nextAttemptAt: lease } });
    if (claimed.count === 0) return 'skipped';

    const { statusCode, error } = await post(webhookEnvelope(row), row.id, row.eventType);
    // Only the attempt that still owns the row writes its outcome.
    const mine = { id: outboxId, status: 'pending' as const, attempts: next };
    if (!error) {
      const done = await prisma.outboxEvent.updateMany({ where: mine, data: { status: 'delivered', deliveredAt: clock.now(), lastStatusCode: statusCode, lastError: null } });
      return done.count ? 'delivered' : 'skipped';
    }
    const dead = next >= settings.maxAttempts;
    const nextAttemptAt = new Date(clock.now().getTime() + backoffDelay(next, settings.backoffBaseMs, settings.backoffMaxMs, random));
    const failed = await prisma.outboxEvent.updateMany({ where: mine, data: { status: dead ? 'dead' : 'pending', lastError: error.slice(0, 500), lastStatusCode: statusCode, ...(dead ? {} : { nextAttemptAt }) } });
    if (failed.count === 0) return 'skipped';
    if (dead) {
      logger.error({ outboxId, attempts: next, statusCode }, 'outbox webhook is dead after max attempts');
      return 'dead';
    }
    await schedule(outboxId, next, nextAttemptAt);
    return 'retry';
  }

  return {
    queue,
    deliver,

    /**
     * Sends a `webhook.test` event now, outside the outbox (nothing stored, nothing retried),
     * so a shop can check its endpoint and signature code. Answers what the endpoint said.
     */
    async sendTest(): Promise<{ delivered: boolean; eventId: string; statusCode: number | null; error: string | null; durationMs: number }> {
      if (!settings.webhookUrl || settings.secrets.length === 0) throw new DomainError('unavailable', 'SHOP_WEBHOOK_URL is not set: there is nowhere to send webhooks');
      const id = randomUUID();
      const body = JSON.stringify({ id, type: 'webhook.test', createdAt: clock.now().toISOString(), data: { message: 'A test webhook from Kabinet. Verify its signature and answer 2xx.' } });
      const started = performance.now();
      const { statusCode, error } = await post(body, id, 'webhook.test');
      return { delivered: error === null, eventId: id, statusCode, error, durationMs: Math.round(performance.now() - started) };
    },

    /** Queues the first attempt of rows written by a committed transaction. */
    async dispatch(ids: string[]): Promise<void> {
      if (ids.length === 0) return;
      const rows = await prisma.outboxEvent.findMany({ where: { id: { in: ids }, status: 'pending' }, select: { id: true, attempts: true, nextAttemptAt: true } });
      for (const row of rows) await schedule(row.id, row.attempts, row.nextAttemptAt);
    },

    /** Re-adds attempts whose job was lost; rows written without dispatch are found here too. */
    async sweep(limit = 1000): Promise<number> {
      const rows = await prisma.outboxEvent.findMany({
        where: { status: 'pending', nextAttemptAt: { lte: clock.now() } },
        select: { id: true, attempts: true },
        orderBy: { nextAttemptAt: 'asc' },
        take: limit,
      });
      let added = 0;
      for (const row of rows) {
        const job = await queue().getJob(attemptJobId(row.id, row.attempts));
        if (!job) {
          await schedule(row.id, row.attempts, clock.now());
          added += 1;
        }
      }
      return added;
    },

    processor: async (job: Job<OutboxJobData>) => deliver(job.data.outboxId, job.data.attempt),

    async list(filter: { status?: OutboxStatus; limit: number; cursor?: string }) {
      return prisma.outboxEvent.findMany({
        where: { ...(filter.status ? { status: filter.status } : {}) },
        orderBy: { id: 'desc' },
        take: filter.limit,
        ...(filter.cursor ? { cursor: { id: filter.cursor }, skip: 1 } : {}),
      });
    },

    /**
     * Gives a dead row a fresh round of attempts. The attempt counter restarts, so the old
     * attempts' finished jobs are removed first (their ids would otherwise block the new ones).
     */
    async retryDead(id: string): Promise<OutboxEvent | null> {
      const row = await prisma.outboxEvent.findUnique({ where: { id } });
      if (!row || row.status !== 'dead') return null;
      for (let a = 0; a <= row.attempts; a++) await queue().remove(attemptJobId(id, a)).catch(() => 0);
      const revived = await prisma.outboxEvent.updateMany({ where: { id, status: 'dead' }, data: { status: 'pending', attempts: 0, nextAttemptAt: clock.now() } });
      if (revived.count === 0) return null;
      await schedule(id, 0, clock.now());
      return prisma.outboxEvent.findUnique({ where: { id } });
    },
  };
}
