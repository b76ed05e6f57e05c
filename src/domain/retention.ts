/**
 * What Kabinet keeps, and for how long. Rows that only served a moment (dedup ids, delivered
 * webhooks, sent notifications, login codes) are deleted once they can no longer matter,
 * in batches so no delete holds locks for long. Delivered webhooks carry the customer's
 * phone for the shop; they must not stay forever.
 */
import type { Clock } from '../infra/clock.js';
import type { PrismaClient } from '../infra/prisma.js';

export interface RetentionSettings {
  /** Shop events and VK events are recognised as repeats for this long. */
  processedEventsDays: number;
  /** Delivered outbox webhooks (dead ones stay until retried or handled). */
  outboxDays: number;
  /** Sent, failed or blocked notifications. */
  notificationsDays: number;
  /** Used or expired login codes (they name a phone). */
  otpCodesDays: number;
}

export const DEFAULT_RETENTION: RetentionSettings = { processedEventsDays: 30, outboxDays: 30, notificationsDays: 90, otpCodesDays: 1 };

const DAY = 86_400_000;
const BATCH = 5_000;

// Table names and conditions are constants below, never input.
const RULES = {
  processedEvents: { table: 'processed_events', where: '"processedAt" < $1' },
  outbox: { table: 'outbox_events', where: `status = 'delivered' AND "deliveredAt" < $1` },
  notifications: { table: 'notifications', where: `status IN ('sent', 'failed', 'blocked', 'skipped') AND "updatedAt" < $1` },
  // A code is useless once expired, used or not; a day later it goes.
  otpCodes: { table: 'otp_codes', where: '"expiresAt" < $1' },
  // An owner check counts wrong answers for a day; two days later it has no use.
  loginChallenges: { table: 'login_challenges', where: '"createdAt" < $1' },
  // Finished shop import jobs and alert fan-outs live as long as the event ids that made them.
  importJobs: { table: 'import_jobs', where: `status IN ('done', 'failed') AND "finishedAt" < $1` },
  alertFanouts: { table: 'alert_fanouts', where: '"finishedAt" < $1' },
} as const;

/** Deletes what is past its retention; returns how many rows per kind. Idempotent. */
export async function pruneExpiredRecords(prisma: PrismaClient, clock: Clock, settings: RetentionSettings = DEFAULT_RETENTION): Promise<Record<keyof typeof RULES, number>> {
  const now = clock.now().getTime();
  const cutoffs: Record<keyof typeof RULES, Date> = {
    processedEvents: new Date(now - settings.processedEventsDays * DAY),
    outbox: new Date(now - settings.outboxDays * DAY),
    notifications: new Date(now - settings.notificationsDays * DAY),
    otpCodes: new Date(now - settings.otpCodesDays * DAY),
    loginChallenges: new Date(now - 2 * DAY),
    importJobs: new Date(now - settings.processedEventsDays * DAY),
    alertFanouts: new Date(now - settings.processedEventsDays * DAY),
  };
  const deleted = { processedEvents: 0, outbox: 0, notifications: 0, otpCodes: 0, loginChallenges: 0, importJobs: 0, alertFanouts: 0 };
  for (const kind of Object.keys(RULES) as Array<keyof typeof RULES>) {
    const { table, where } = RULES[kind];
    for (;;) {
      const n = await prisma.$executeRawUnsafe(
        `DELETE FROM "${table}" WHERE ctid IN (SELECT ctid FROM "${table}" WHERE ${where} LIMIT ${BATCH})`,
        cutoffs[kind],
      );
      deleted[kind] += n;
      if (n < BATCH) break;
    }
  }
  return deleted;
}
