/**
 * Broadcast outcomes written in bulk: every send job of a process hands its rows' outcomes
 * (sent with the message id, blocked, failed, skipped) to one recorder, which writes what
 * arrived within `flushMs` (50 ms) as one statement: the rows' status from unnest'ed arrays,
 * and, for rows that came back blocked, the identity's `blockedAt`, in the same statement.
 *
 * A message Telegram accepted is thus on record at most `flushMs` plus one round trip after
 * its answer: that is the window in which a crash repeats it (src/broadcasts/README.md).
 * A write that fails is tried again (the messages are out; losing the record would send
 * them again once their claim goes stale).
 */
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { PrismaClient } from '../infra/prisma.js';

export type OutcomeStatus = 'sent' | 'failed' | 'blocked' | 'skipped';

export interface Outcome {
  id: string;
  status: OutcomeStatus;
  error?: string | null;
  /** The platform's message id (sent). */
  externalMessageId?: string | null;
}

export interface OutcomeRecorder {
  /** Resolves once the outcome is written (within flushMs and one round trip). */
  record(outcome: Outcome): Promise<void>;
  /** Writes whatever waits now. */
  flush(): Promise<void>;
}

const WRITE_ATTEMPTS = 5;

export function createOutcomeRecorder(deps: { prisma: PrismaClient; clock: Clock; logger: Logger; flushMs?: number; maxBatch?: number; retryDelayMs?: number }): OutcomeRecorder {
  const flushMs = deps.flushMs ?? 50;
  const maxBatch = deps.maxBatch ?? 1000;
  const retryDelayMs = deps.retryDelayMs ?? 200;
  let batch: Array<{ outcome: Outcome; resolve: () => void; reject: (err: unknown) => void }> = [];
  let timer: NodeJS.Timeout | undefined;

  async function write(outcomes: Outcome[]): Promise<void> {
    const now = deps.clock.now();
    const ids = outcomes.map((o) => o.id);
    const statuses = outcomes.map((o) => o.status);
    const errors = outcomes.map((o) => o.error ?? null);
    const messageIds = outcomes.map((o) => o.externalMessageId ?? null);
    for (let attempt = 1; ; attempt++) {
      try {
        await deps.prisma.$executeRaw`
          WITH v AS (
            SELECT * FROM unnest(${ids}::uuid[], ${statuses}::text[], ${errors}::text[], ${messageIds}::text[]) AS v(id, status, error, mid)
          ), done AS (
            UPDATE "broadcast_deliveries" d SET "status" = v.status::"RecipientStatus", "error" = v.error, "sendingAt" = NULL, "updatedAt" = ${now},
              "externalMessageId" = COALESCE(v.mid, d."externalMessageId"),
              "sentAt" = CASE WHEN v.status = 'sent' THEN ${now} ELSE d."sentAt" END
            FROM v WHERE d."id" = v.id
            RETURNING d."identityId", v.status
          )
          UPDATE "channel_identities" i SET "blockedAt" = ${now}, "updatedAt" = ${now}
          FROM done WHERE done.status = 'blocked' AND i."id" = done."identityId" AND i."blockedAt" IS NULL`;
        return;
      } catch (err) {
        if (attempt >= WRITE_ATTEMPTS) throw err;
        deps.logger.warn({ attempt, rows: outcomes.length, err: { message: (err as Error).message } }, 'could not record broadcast outcomes yet; trying again');
        await new Promise((r) => setTimeout(r, retryDelayMs * attempt));
      }
    }
  }

  function flush(): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    const items = batch;
    batch = [];
    if (items.length === 0) return Promise.resolve();
    return write(items.map((i) => i.outcome)).then(
      () => items.forEach((i) => i.resolve()),
      (err: unknown) => items.forEach((i) => i.reject(err)),
    );
  }

  return {
    record(outcome) {
      return new Promise<void>((resolve, reject) => {
        batch.push({ outcome, resolve, reject });
        if (batch.length >= maxBatch) void flush();
        else timer ??= setTimeout(() => void flush(), flushMs);
      });
    },
    flush,
  };
}
