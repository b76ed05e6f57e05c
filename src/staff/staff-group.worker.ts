/**
 * The staff-group workers: one BullMQ worker per staff group (concurrency 1, so a topic's
 * posts keep their order), each send counted by the group limiter before it is made.
 *
 * - relay: the customer's pending messages go into the conversation's topic; the topic and
 *   its card are created first when missing. Consecutive plain texts are merged into one post
 *   (a burst of one customer costs one message of the group's budget); files are re-uploaded
 *   (file_ids belong to the bot that received them); a file that cannot be had becomes a
 *   clear placeholder line. A topic deleted by hand ("message thread not found") is created
 *   again with the card, and the message delivered there.
 * - refresh / notice / post / edit: the card and title, service lines, other features' posts.
 * - Limits: out of budget, or a 429 (whose retry_after every process then honours), pauses
 *   this group's queue for that long; the job runs again and resumes where it stopped, since
 *   each post is marked in the database as it goes.
 */
import { randomBytes } from 'node:crypto';
import { Worker, UnrecoverableError, type Job } from 'bullmq';
import { Input, Telegram, TelegramError } from 'telegraf';
import type { CardQueries } from '../domain/support/card.js';
import type { Attachment, SupportService } from '../domain/support/support.service.js';
import type { Translator } from '../infra/i18n.js';
import type { Logger } from '../infra/logger.js';
import type { QueueFactory } from '../infra/queues.js';
import type { Redis } from '../infra/redis.js';
import { staffGroupQueueName } from '../queues/names.js';
import { FileUnavailable, type FileSource } from './files.js';
import type { GroupLimiter } from './group-limiter.js';
import { cardKeyboard, cardText, topicTitle } from './render.js';
import type { StaffGroupJob } from './staff-posts.js';

export interface StaffGroupWorkerDeps {
  queues: QueueFactory;
  redis: Redis;
  redisKeyPrefix: string;
  telegram: Telegram;
  support: SupportService;
  cards: CardQueries;
  files: FileSource;
  limiter: GroupLimiter;
  translator: Translator;
  /** Language of staff-facing texts (the staff group's). */
  staffLanguage: string;
  timeZone: string;
  logger: Logger;
  chatIds: readonly string[];
  lockDurationMs?: number;
}

/** Out of budget for this group: wait this long. */
class GroupBusy extends Error {
  constructor(readonly waitMs: number) {
    super(`staff group busy for ${waitMs} ms`);
  }
}

const TEXT_MAX = 4000;
const CAPTION_MAX = 1024;
const THREAD_GONE = /message thread not found|TOPIC_DELETED|TOPIC_ID_INVALID/i;
const TOPIC_CLOSED = /TOPIC_CLOSED/i;
const NOT_MODIFIED = /not modified|TOPIC_NOT_MODIFIED/i;

const isTelegram = (err: unknown): err is TelegramError => err instanceof TelegramError;

type Post = { ids: string[]; text: string | null; attachment?: Attachment | undefined; placeholder?: boolean };

/** Consecutive plain texts become one post (up to the message limit); each file is a post. */
export function planPosts(pending: Array<{ id: string; text: string | null; attachments: Attachment[] }>): Post[] {
  const posts: Post[] = [];
  for (const m of pending) {
    if (m.attachments.length === 0) {
      const last = posts.at(-1);
      if (last && !last.attachment && last.text !== null && m.text !== null && last.text.length + m.text.length + 2 <= TEXT_MAX) {
        last.ids.push(m.id);
        last.text = `${last.text}\n\n${m.text}`;
      } else posts.push({ ids: [m.id], text: m.text });
      continue;
    }
    const caption = m.text && m.text.length <= CAPTION_MAX ? m.text : null;
    if (m.text && !caption) posts.push({ ids: [], text: m.text });
    m.attachments.forEach((a, i) => posts.push({ ids: i === m.attachments.length - 1 ? [m.id] : [], text: i === 0 ? caption : null, attachment: a }));
  }
  return posts;
}

export function startStaffGroupWorkers(deps: StaffGroupWorkerDeps): Worker[] {
  const { telegram, support, cards, files, limiter, translator, logger, redis } = deps;
  const t = translator.t(deps.staffLanguage);
  const view = { t, lang: deps.staffLanguage, timeZone: deps.timeZone };

  async function spend(chatId: string): Promise<void> {
    const wait = await limiter.take(chatId);
    if (wait > 0) throw new GroupBusy(wait);
  }

  /** Runs a Bot API call; a 429 blocks the group for retry_after in every process. */
  async function call<T>(chatId: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (isTelegram(err) && err.code === 429) {
        const ms = (err.parameters?.retry_after ?? 1) * 1000;
        await limiter.block(chatId, ms);
        throw new GroupBusy(ms);
      }
      throw err;
    }
  }

  async function withLock<T>(key: string, run: () => Promise<T>): Promise<T> {
    const lockKey = `${deps.redisKeyPrefix}staff-lock:${key}`;
    const token = randomBytes(8).toString('hex');
    const ok = await redis.set(lockKey, token, 'PX', 60_000, 'NX');
    // Another process relays this conversation right now: come back shortly (it may miss ours).
    if (ok !== 'OK') throw new GroupBusy(200);
    try {
      return await run();
    } finally {
      await redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, lockKey, token);
    }
  }

  /** Creates the topic and posts the card; `question` is shown on the card (and so counts as posted). */
  async function openTopic(chatId: string, conversationId: string, question?: { id: string; text: string }): Promise<number> {
    const card = await cards.card(conversationId);
    if (!card) throw new UnrecoverableError('conversation is gone');
    const shown = question ? { ...card, question: question.text } : card;
    const topic = await call(chatId, () => telegram.createForumTopic(chatId, topicTitle(card)));
    const threadId = topic.message_thread_id;
    await spend(chatId);
    const posted = await call(chatId, () => telegram.sendMessage(chatId, cardText(shown, view), { message_thread_id: threadId, parse_mode: 'HTML', reply_markup: cardKeyboard(card, t) }));
    await support.setTopic(conversationId, { chatId, threadId: String(threadId), cardMessageId: String(posted.message_id) });
    if (question) await support.markPosted([question.id], String(posted.message_id));
    await redis.set(cardHashKey(conversationId), stateHash(shown, threadId), 'EX', 7 * 86_400);
    if (card.status === 'closed') await call(chatId, () => telegram.closeForumTopic(chatId, threadId)).catch(() => undefined);
    return threadId;
  }

  const cardHashKey = (conversationId: string) => `${deps.redisKeyPrefix}staff-card:${conversationId}`;
  const stateHash = (card: Parameters<typeof cardText>[0], threadId: number) => JSON.stringify([threadId, cardText(card, view), cardKeyboard(card, t), topicTitle(card), card.status === 'closed']);

  async function sendPost(chatId: string, threadId: number, post: Post): Promise<number> {
    const extra = { message_thread_id: threadId };
    if (!post.attachment) {
      await spend(chatId);
      return (await call(chatId, () => telegram.sendMessage(chatId, post.text ?? '…', extra))).message_id;
    }
    const a = post.attachment;
    let file: { data: Buffer; fileName: string };
    try {
      file = await files.fetch(a);
    } catch (err) {
      if (!(err instanceof FileUnavailable)) throw err;
      const line = t('staff.relay.file_unavailable', { kind: t(`staff.kinds.${a.kind}`), name: a.fileName ?? '', reason: err.message });
      await spend(chatId);
      return (await call(chatId, () => telegram.sendMessage(chatId, post.text ? `${post.text}\n\n${line}` : line, extra))).message_id;
    }
    const input = Input.fromBuffer(file.data, file.fileName);
    const caption = post.text ? { caption: post.text } : {};
    await spend(chatId);
    const sent = await call<{ message_id: number }>(chatId, () => {
      switch (a.kind) {
        case 'photo':
          return telegram.sendPhoto(chatId, input, { ...extra, ...caption });
        case 'voice':
          return telegram.sendVoice(chatId, input, { ...extra, ...caption });
        case 'audio':
          return telegram.sendAudio(chatId, input, { ...extra, ...caption });
        case 'video':
          return telegram.sendVideo(chatId, input, { ...extra, ...caption });
        case 'animation':
          return telegram.sendAnimation(chatId, input, { ...extra, ...caption });
        case 'video_note':
          return telegram.sendVideoNote(chatId, { source: file.data, filename: file.fileName }, extra);
        case 'sticker':
          // VK stickers are PNG images; Telegram stickers keep their own format.
          return a.source === 'vk' ? telegram.sendPhoto(chatId, input, extra) : telegram.sendSticker(chatId, input, extra);
        default:
          return telegram.sendDocument(chatId, input, { ...extra, ...caption });
      }
    });
    return sent.message_id;
  }

  /** Runs `work` in the conversation's topic, creating it (again) when missing or deleted. */
  async function inTopic(chatId: string, conversationId: string, work: (threadId: number) => Promise<void>, question?: () => Promise<{ id: string; text: string } | undefined>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const c = await support.get(conversationId);
      let threadId = c.staffThreadId && c.staffChatId === chatId ? Number(c.staffThreadId) : undefined;
      try {
        if (threadId === undefined) threadId = await openTopic(chatId, conversationId, await question?.());
        await work(threadId);
        return;
      } catch (err) {
        if (isTelegram(err) && THREAD_GONE.test(err.description) && threadId !== undefined && attempt < 3) {
          logger.warn({ conversationId, chatId, threadId }, 'staff topic is gone; creating it again');
          await support.clearTopic(conversationId, String(threadId));
          continue;
        }
        if (isTelegram(err) && TOPIC_CLOSED.test(err.description) && threadId !== undefined && attempt < 3) {
          await call(chatId, () => telegram.reopenForumTopic(chatId, threadId!)).catch(() => undefined);
          continue;
        }
        throw err;
      }
    }
  }

  async function relay(chatId: string, conversationId: string): Promise<void> {
    await withLock(conversationId, async () => {
      let pending = await support.pendingInbound(conversationId);
      if (pending.length === 0) return;
      const firstPlain = () => {
        const first = pending[0];
        return first && first.attachments.length === 0 && first.text ? { id: first.id, text: first.text } : undefined;
      };
      await inTopic(chatId, conversationId, async (threadId) => {
        pending = await support.pendingInbound(conversationId);
        for (const post of planPosts(pending)) {
          const messageId = await sendPost(chatId, threadId, post);
          await support.markPosted(post.ids, String(messageId));
        }
      }, async () => firstPlain());
    });
  }

  async function refresh(chatId: string, conversationId: string): Promise<void> {
    const c = await support.get(conversationId);
    if (!c.staffThreadId) {
      // No topic yet: the relay creates it with the current card.
      return;
    }
    await inTopic(chatId, conversationId, async (threadId) => {
      const card = await cards.card(conversationId);
      const current = await support.get(conversationId);
      if (!card) return;
      const hash = stateHash(card, threadId);
      const previous = await redis.get(cardHashKey(conversationId));
      if (previous === hash) return;
      const [, oldText, , oldTitle, oldClosed] = previous ? (JSON.parse(previous) as [number, string, unknown, string, boolean]) : [0, '', null, '', false];
      const text = cardText(card, view);
      if (current.cardMessageId && (text !== oldText || previous === null)) {
        await spend(chatId);
        await call(chatId, () => telegram.editMessageText(chatId, Number(current.cardMessageId), undefined, text, { parse_mode: 'HTML', reply_markup: cardKeyboard(card, t) })).catch((err: unknown) => {
          if (!(isTelegram(err) && NOT_MODIFIED.test(err.description))) throw err;
        });
      }
      const title = topicTitle(card);
      if (title !== oldTitle) {
        await spend(chatId);
        await call(chatId, () => telegram.editForumTopic(chatId, threadId, { name: title })).catch((err: unknown) => {
          if (!(isTelegram(err) && NOT_MODIFIED.test(err.description))) throw err;
        });
      }
      const closed = card.status === 'closed';
      if (closed !== oldClosed || previous === null) {
        await spend(chatId);
        await call(chatId, () => (closed ? telegram.closeForumTopic(chatId, threadId) : telegram.reopenForumTopic(chatId, threadId))).catch((err: unknown) => {
          if (!(isTelegram(err) && NOT_MODIFIED.test(err.description))) throw err;
        });
      }
      await redis.set(cardHashKey(conversationId), hash, 'EX', 7 * 86_400);
    });
  }

  async function notice(chatId: string, job: Extract<StaffGroupJob, { kind: 'notice' }>): Promise<void> {
    const text = t(`staff.notices.${job.key}`, job.params ?? {});
    await inTopic(chatId, job.conversationId, async (threadId) => {
      await spend(chatId);
      await call(chatId, () => telegram.sendMessage(chatId, text, { message_thread_id: threadId, parse_mode: 'HTML' }));
    });
  }

  async function process(chatId: string, job: Job<StaffGroupJob>): Promise<unknown> {
    const data = job.data;
    switch (data.kind) {
      case 'relay':
        return relay(chatId, data.conversationId);
      case 'refresh':
        return refresh(chatId, data.conversationId);
      case 'notice':
        return notice(chatId, data);
      case 'post': {
        await spend(chatId);
        const sent = await call(chatId, () =>
          telegram.sendMessage(chatId, data.text, {
            ...(data.threadId ? { message_thread_id: data.threadId } : {}),
            ...(data.parseMode ? { parse_mode: data.parseMode } : {}),
            ...(data.replyMarkup ? { reply_markup: data.replyMarkup as never } : {}),
          }),
        );
        return { messageId: sent.message_id };
      }
      case 'edit': {
        await spend(chatId);
        await call(chatId, () =>
          telegram.editMessageText(chatId, data.messageId, undefined, data.text, {
            ...(data.parseMode ? { parse_mode: data.parseMode } : {}),
            ...(data.replyMarkup ? { reply_markup: data.replyMarkup as never } : {}),
          }),
        ).catch((err: unknown) => {
          if (!(isTelegram(err) && NOT_MODIFIED.test(err.description))) throw err;
        });
        return { messageId: data.messageId };
      }
    }
  }

  return deps.chatIds.map((chatId) => {
    const name = staffGroupQueueName(chatId);
    const queue = deps.queues.queue<StaffGroupJob>(name);
    const worker = deps.queues.worker<StaffGroupJob>(
      name,
      async (job) => {
        try {
          return await process(chatId, job);
        } catch (err) {
          if (err instanceof GroupBusy) {
            await queue.rateLimit(err.waitMs);
            throw Worker.RateLimitError();
          }
          // The group refuses us for good (bot removed, not a forum, no rights): stop retrying.
          if (isTelegram(err) && (err.code === 403 || /chat not found|not a forum|not enough rights/i.test(err.description))) {
            logger.error({ chatId, kind: job.data.kind, err: { code: err.code, description: err.description } }, 'staff group refuses the bot');
            throw new UnrecoverableError(err.description);
          }
          throw err;
        }
      },
      { concurrency: 1, lockDuration: deps.lockDurationMs ?? 30_000 },
    );
    return worker as unknown as Worker;
  });
}
