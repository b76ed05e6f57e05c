/**
 * Everything the product posts or edits in a staff group goes through here: one BullMQ queue
 * per group (see staff-group.worker.ts), paced to Telegram's per-group limit across all
 * processes, honouring 429 retry_after, losing nothing in a burst.
 *
 * `StaffGroupPoster` is the one entry point, for support (relay a conversation's new messages,
 * refresh its card, post a notice) and for other features (`post` / `edit` any message in a
 * staff group, e.g. a broadcast preview). Job payloads carry ids; `post`/`edit` carry the text
 * they show, which is staff-facing.
 */
import type { JobsOptions } from 'bullmq';
import type { SupportService } from '../domain/support/support.service.js';
import type { QueueFactory } from '../infra/queues.js';
import { staffGroupQueueName } from '../queues/names.js';

export type StaffMarkup = { inline_keyboard: Array<Array<{ text: string; callback_data?: string; url?: string }>> };

export type StaffGroupJob =
  | { kind: 'relay'; conversationId: string }
  | { kind: 'refresh'; conversationId: string }
  | { kind: 'notice'; conversationId: string; key: string; params?: Record<string, string | number> }
  | { kind: 'post'; chatId: string; threadId?: number | undefined; text: string; parseMode?: 'HTML' | undefined; replyMarkup?: StaffMarkup | undefined }
  | { kind: 'edit'; chatId: string; messageId: number; text: string; parseMode?: 'HTML' | undefined; replyMarkup?: StaffMarkup | undefined };

export interface PostInput {
  /** One of STAFF_CHAT_ID. */
  chatId: string;
  /** A forum topic; omitted = the group's General topic. */
  threadId?: number;
  text: string;
  parseMode?: 'HTML';
  replyMarkup?: StaffMarkup;
}

export interface StaffGroupPoster {
  readonly chatIds: readonly string[];
  /** Posts the customer's pending messages into the conversation's topic (creating it first). */
  relay(conversationId: string, messageId?: string): Promise<void>;
  /** Re-renders the card and the topic title and opens or closes the topic to match the state. */
  refresh(conversationId: string): Promise<void>;
  /** A line from locales (staff.notices.<key>) posted into the conversation's topic. */
  notice(conversationId: string, key: string, params?: Record<string, string | number>): Promise<void>;
  /** Posts any message in a staff group; resolves with the job id once queued. */
  post(input: PostInput): Promise<string>;
  /** Edits a message the staff bot posted in a staff group. */
  edit(input: { chatId: string; messageId: number; text: string; parseMode?: 'HTML'; replyMarkup?: StaffMarkup }): Promise<string>;
}

const JOB_OPTIONS: JobsOptions = {
  // Transient failures (network, 5xx) retry with backoff; 429 is a rate-limit pause, not an attempt.
  attempts: 12,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { age: 3600, count: 5000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

let sequence = 0;
const uniq = () => `${Date.now().toString(36)}${(sequence++ % 1_000_000).toString(36)}`;

export function createStaffGroupPoster(deps: { queues: QueueFactory; support: Pick<SupportService, 'staffChatFor' | 'get'>; chatIds: readonly string[] }): StaffGroupPoster {
  const { queues, support, chatIds } = deps;
  if (chatIds.length === 0) throw new Error('createStaffGroupPoster: no staff groups (STAFF_CHAT_ID)');
  const queue = (chatId: string) => queues.queue<StaffGroupJob>(staffGroupQueueName(chatId), JOB_OPTIONS);
  const known = (chatId: string) => {
    if (!chatIds.includes(chatId)) throw new Error(`${chatId} is not a staff group (STAFF_CHAT_ID)`);
    return chatId;
  };
  return {
    chatIds,
    async relay(conversationId, messageId) {
      const chatId = await support.staffChatFor(conversationId, chatIds);
      // One job per message (a job that finds nothing pending ends without sending anything).
      await queue(chatId).add('relay', { kind: 'relay', conversationId }, { jobId: `relay-${conversationId}-${messageId ?? uniq()}` });
    },
    async refresh(conversationId) {
      const chatId = await support.staffChatFor(conversationId, chatIds);
      await queue(chatId).add('refresh', { kind: 'refresh', conversationId }, { jobId: `refresh-${conversationId}-${uniq()}` });
    },
    async notice(conversationId, key, params) {
      const chatId = await support.staffChatFor(conversationId, chatIds);
      await queue(chatId).add('notice', { kind: 'notice', conversationId, key, ...(params ? { params } : {}) }, { jobId: `notice-${conversationId}-${uniq()}` });
    },
    async post(input) {
      const chatId = known(input.chatId);
      const job = await queue(chatId).add('post', { kind: 'post', chatId, threadId: input.threadId, text: input.text, parseMode: input.parseMode, replyMarkup: input.replyMarkup }, { jobId: `post-${uniq()}` });
      return job.id!;
    },
    async edit(input) {
      const chatId = known(input.chatId);
      const job = await queue(chatId).add('edit', { kind: 'edit', chatId, messageId: input.messageId, text: input.text, parseMode: input.parseMode, replyMarkup: input.replyMarkup }, { jobId: `edit-${uniq()}` });
      return job.id!;
    },
  };
}
