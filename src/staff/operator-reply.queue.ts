/**
 * Operator → customer, durable. The staff webhook stores the operator's answer (pending) and
 * queues a job here; the worker role delivers it. Nothing is sent inside the webhook request,
 * so a process that dies after the answer was stored loses nothing:
 *  - died before the job was queued: the support sweeper finds the answer still pending after
 *    STALE_REPLY_SECONDS and queues the conversation again (`resend`);
 *  - died while delivering: BullMQ gives the stalled job to another worker after the lock
 *    duration, which delivers whatever is still pending.
 *
 * Order per conversation: a job holds the conversation's lock (the fair Redis lock of the chat
 * handlers, src/bot/ordering/chat-lock.ts) and delivers the conversation's pending answers
 * oldest first, so two quick answers arrive in the order they were written whichever job runs
 * first, and two jobs never deliver one answer at the same time. The close line (with the
 * rating buttons) is queued the same way, after the answers written before it.
 *
 * Repeats: VK drops a repeated send (random_id derived from the message id and the send's
 * place in the answer), so on VK an answer arrives exactly once. Telegram has no such key: an
 * answer Telegram accepted in the last round trip before the worker died (before the row was
 * marked sent) is sent again — at least once.
 */
import type { JobsOptions, Worker } from 'bullmq';
import { createChatLock } from '../bot/ordering/chat-lock.js';
import type { SupportService } from '../domain/support/support.service.js';
import type { Logger } from '../infra/logger.js';
import type { QueueFactory } from '../infra/queues.js';
import type { Redis } from '../infra/redis.js';
import { QueueName } from '../queues/names.js';
import type { OperatorReplies } from './operator-replies.js';

/** An answer still pending this long has lost its job (or is stuck): the sweeper queues it again. */
export const STALE_REPLY_SECONDS = 30;

/** Ids only: the worker reads the answer from the database. */
export type OperatorReplyJob = { kind: 'reply'; conversationId: string; messageId?: string } | { kind: 'closed'; conversationId: string };

export interface OperatorReplyQueue {
  /** Delivers a stored answer (and any earlier one of the conversation still pending). */
  reply(conversationId: string, messageId: string): Promise<void>;
  /** The operator closed: the customer is told and asked for a rating, after the answers before it. */
  closed(conversationId: string): Promise<void>;
  /** Delivers whatever the conversation still has pending (the sweeper, after a lost job). */
  resend(conversationId: string): Promise<void>;
}

const JOB_OPTIONS: JobsOptions = {
  // A failure here is Redis or the database (a refused send is recorded on the message, not thrown).
  attempts: 10,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { age: 3600, count: 5000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

let sequence = 0;
const uniq = () => `${Date.now().toString(36)}${(sequence++ % 1_000_000).toString(36)}`;

export function createOperatorReplyQueue(deps: { queues: QueueFactory }): OperatorReplyQueue {
  const queue = () => deps.queues.queue<OperatorReplyJob>(QueueName.operatorReplies, JOB_OPTIONS);
  return {
    async reply(conversationId, messageId) {
      await queue().add('reply', { kind: 'reply', conversationId, messageId }, { jobId: `reply-${messageId}` });
    },
    async closed(conversationId) {
      await queue().add('closed', { kind: 'closed', conversationId }, { jobId: `closed-${conversationId}-${uniq()}` });
    },
    async resend(conversationId) {
      await queue().add('reply', { kind: 'reply', conversationId }, { jobId: `resend-${conversationId}-${uniq()}` });
    },
  };
}

export interface OperatorReplyWorkerDeps {
  queues: QueueFactory;
  redis: Redis;
  redisKeyPrefix: string;
  support: Pick<SupportService, 'nextPendingReply' | 'recipient'>;
  replies: Pick<OperatorReplies, 'deliver' | 'tellClosed'>;
  logger: Logger;
  /** Conversations delivered at once by one process. */
  concurrency?: number;
  /** BullMQ's job lock; a dead worker's job runs again after it (and after the conversation lease). */
  lockDurationMs?: number;
}

/** Answers one job delivers at most (each is marked sent or failed as it goes; the rest get the next job). */
const MAX_PER_JOB = 50;

/** The processor, exported for tests that drive it directly. */
export function createOperatorReplyProcessor(deps: Omit<OperatorReplyWorkerDeps, 'queues' | 'concurrency'>) {
  const { support, replies } = deps;
  const lock = createChatLock({
    redis: deps.redis,
    prefix: `${deps.redisKeyPrefix}lock:operator-reply:`,
    // A dead holder's conversation is free again after one lease, about when BullMQ hands its job on.
    leaseMs: Math.max(1000, deps.lockDurationMs ?? 15_000),
    maxWaitMs: 60_000,
    maxPollMs: 50,
  });
  return async (data: OperatorReplyJob): Promise<{ delivered: number; closed: boolean }> =>
    lock.run(data.conversationId, async () => {
      let delivered = 0;
      for (; delivered < MAX_PER_JOB; delivered++) {
        const next = await support.nextPendingReply(data.conversationId);
        if (!next) break;
        const outcome = await replies.deliver(next);
        if (!outcome.ok) deps.logger.info({ conversationId: data.conversationId, messageId: next.messageId, reason: outcome.reason }, 'operator answer not delivered');
      }
      if (data.kind === 'closed') await replies.tellClosed(data.conversationId, await support.recipient(data.conversationId));
      return { delivered, closed: data.kind === 'closed' };
    });
}

export function startOperatorReplyWorker(deps: OperatorReplyWorkerDeps): Worker {
  const process = createOperatorReplyProcessor(deps);
  const lockDuration = deps.lockDurationMs ?? 30_000;
  return deps.queues.worker<OperatorReplyJob>(QueueName.operatorReplies, (job) => process(job.data), {
    concurrency: deps.concurrency ?? 8,
    lockDuration,
    stalledInterval: lockDuration,
  }) as unknown as Worker;
}
