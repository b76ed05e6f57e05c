/**
 * Waiting customers are not forgotten. On a schedule (one run per interval across all worker
 * processes, BullMQ job scheduler): the auto-reply to a customer nobody answered within
 * SUPPORT_AUTO_REPLY_AFTER_SECONDS, a reminder in the staff topic for a conversation waiting
 * SUPPORT_REMINDER_AFTER_SECONDS, a new relay job for customer messages whose job was lost, and
 * a new delivery job for operators' answers still pending after STALE_REPLY_SECONDS.
 * Each conversation is claimed in the database first, so a repeated run sends nothing twice.
 */
import type { Worker } from 'bullmq';
import type { WorkingHours } from '../domain/support/hours.js';
import type { Logger } from '../infra/logger.js';
import type { QueueFactory } from '../infra/queues.js';
import { formatDate } from '../lib/format.js';
import { QueueName } from '../queues/names.js';
import type { StaffServices } from './context.js';
import { STALE_REPLY_SECONDS } from './operator-reply.queue.js';

export interface SupportSweeperDeps {
  queues: QueueFactory;
  logger: Logger;
  services: Pick<StaffServices, 'support' | 'poster' | 'replies' | 'replyQueue'>;
  hours: WorkingHours;
  autoReplyAfterSeconds: number;
  reminderAfterSeconds: number;
  everyMs: number;
  timeZone: string;
  now?: () => Date;
}

/** One pass; exported for tests. */
export async function sweepSupport(deps: Omit<SupportSweeperDeps, 'queues' | 'everyMs'>): Promise<{ autoReplies: number; reminders: number; relays: number; resends: number }> {
  const { support, poster, replies, replyQueue } = deps.services;
  const now = deps.now?.() ?? new Date();
  let autoReplies = 0;
  for (const due of await support.claimAutoReplies(deps.autoReplyAfterSeconds)) {
    const open = deps.hours.isOpen(now);
    const when = open ? undefined : deps.hours.nextOpening(now);
    const key = open ? 'auto_reply' : 'out_of_hours';
    const outcome = await replies.tell(due.conversationId, due.recipient, key, when ? { when: formatDate(when.toISOString(), due.recipient.language, deps.timeZone, true) } : {});
    if (outcome.ok) autoReplies++;
  }
  let reminders = 0;
  for (const due of await support.claimReminders(deps.reminderAfterSeconds)) {
    await poster.notice(due.conversationId, 'reminder', { minutes: Math.max(1, Math.round((now.getTime() - due.waitingSince.getTime()) / 60_000)) });
    reminders++;
  }
  let relays = 0;
  for (const conversationId of await support.stalePending(60)) {
    await poster.relay(conversationId);
    relays++;
  }
  // Operators' answers whose delivery job was lost (the web process died after storing them).
  let resends = 0;
  for (const conversationId of await support.stalePendingReplies(STALE_REPLY_SECONDS)) {
    await replyQueue.resend(conversationId);
    resends++;
  }
  return { autoReplies, reminders, relays, resends };
}

export async function startSupportSweeper(deps: SupportSweeperDeps): Promise<Worker> {
  const queue = deps.queues.queue(QueueName.supportSweep, { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } });
  await queue.upsertJobScheduler('support-sweep', { every: deps.everyMs }, { name: 'support-sweep', data: {} });
  return deps.queues.worker(QueueName.supportSweep, async () => {
    const result = await sweepSupport(deps);
    if (result.autoReplies || result.reminders || result.relays || result.resends) deps.logger.info(result, 'support sweep');
    return result;
  }, { concurrency: 1 }) as unknown as Worker;
}
