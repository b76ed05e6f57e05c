/**
 * What the customer receives from the staff side: an operator's answer (with "<name> answered"
 * the first time in a round), the close with the rating question, the auto-reply. Delivery is
 * recorded on the message; a customer who blocked the bot is marked so, the message failed,
 * and the operators are told in the topic. A file the customer's messenger would not take
 * arrives as a clear line naming it, and the operators are told.
 *
 * Answers are delivered by the operator-reply worker (operator-reply.queue.ts), not in the
 * staff webhook. Each send of an answer has an idempotency key derived from the message id and
 * its place in the answer, so delivering the same answer again (after a crash) repeats nothing
 * on VK.
 */
import type { Platform } from '../channels/outbound.js';
import { SendFailure } from '../channels/outbound.js';
import { ratingKeyboard, type InlineButtons } from '../bot/features/support-callbacks.js';
import type { PendingReply, Recipient, SupportService } from '../domain/support/support.service.js';
import type { Translator } from '../infra/i18n.js';
import type { Logger } from '../infra/logger.js';
import { escapeHtml } from '../lib/format.js';
import type { CustomerMessenger, SendOptions } from './customer-delivery.js';
import { FileUnavailable, type FileSource } from './files.js';
import type { StaffGroupPoster } from './staff-posts.js';

export interface OperatorRepliesDeps {
  support: SupportService;
  messengers: ReadonlyMap<Platform, CustomerMessenger>;
  files: FileSource;
  poster: StaffGroupPoster;
  translator: Translator;
  /** Language of staff-facing texts (the staff group's); default: the translator's default. */
  staffLanguage?: string;
  logger: Logger;
  /** Longest 429 wait worth sitting through before giving up on this send. */
  maxRetryAfterSeconds?: number;
}

export type DeliveryOutcome = { ok: true } | { ok: false; reason: 'blocked' | 'failed' | 'no_channel'; error: string };

export function createOperatorReplies(deps: OperatorRepliesDeps) {
  const { support, messengers, files, poster, translator, logger } = deps;
  const staffLanguage = deps.staffLanguage ?? translator.defaultLanguage;
  const maxWait = deps.maxRetryAfterSeconds ?? 5;

  async function withRetry<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      if (err instanceof SendFailure && err.kind === 'rate_limited' && (err.retryAfterSeconds ?? 1) <= maxWait) {
        await new Promise((r) => setTimeout(r, (err.retryAfterSeconds ?? 1) * 1000));
        return send();
      }
      if (err instanceof SendFailure && err.kind === 'transient') return send();
      throw err;
    }
  }

  async function failed(conversationId: string, messageId: string | undefined, to: Recipient, err: unknown): Promise<DeliveryOutcome> {
    const failure = err instanceof SendFailure ? err : new SendFailure('transient', err instanceof Error ? err.message : String(err));
    if (messageId) await support.markFailed(messageId, `${failure.kind}: ${failure.message}`);
    if (failure.kind === 'blocked') {
      await support.markRecipientBlocked(to.identityId);
      await poster.notice(conversationId, 'customer_blocked');
      return { ok: false, reason: 'blocked', error: failure.message };
    }
    logger.warn({ conversationId, kind: failure.kind, err: { message: failure.message } }, 'operator message not delivered');
    await poster.notice(conversationId, 'delivery_failed', { reason: escapeHtml(failure.message.slice(0, 200)) });
    return { ok: false, reason: 'failed', error: failure.message };
  }

  return {
    /** Sends a stored operator message to the customer and records the outcome. */
    async deliver(input: PendingReply): Promise<DeliveryOutcome> {
      const to = input.recipient;
      const messenger = messengers.get(to.platform);
      if (!messenger) {
        await support.markFailed(input.messageId, `no ${to.platform} channel configured`);
        await poster.notice(input.conversationId, 'delivery_failed', { reason: `no ${to.platform} channel` });
        return { ok: false, reason: 'no_channel', error: `no ${to.platform} channel` };
      }
      const t = translator.t(to.language);
      const intro = input.firstAnswer ? t('support.answered_by', { name: input.staff.name }) : '';
      const join = (body: string | null) => [intro, body ?? ''].filter(Boolean).join('\n');
      // The n-th send of this answer has the same key on every attempt (VK drops a repeat).
      let sends = 0;
      const once = (): SendOptions => ({ idempotencyKey: `support-${input.messageId}-${sends++}` });
      const asLines: Array<{ kind: string; name: string; reason: string }> = [];
      try {
        let lastId: string | undefined;
        if (input.attachments.length === 0) {
          const key = once();
          lastId = await withRetry(() => messenger.sendText(to, join(input.text), undefined, key));
        } else {
          let caption: string | undefined = join(input.text) || undefined;
          for (const a of input.attachments) {
            let sent: string | undefined;
            let note: string | undefined;
            const key = once();
            try {
              const file = await files.fetch(a);
              sent = await withRetry(() => messenger.sendFile(to, { kind: a.kind, data: file.data, fileName: file.fileName }, caption && caption.length <= 1024 ? caption : undefined, key));
              if (sent && caption && caption.length > 1024) note = caption;
            } catch (err) {
              if (!(err instanceof FileUnavailable)) throw err;
              asLines.push({ kind: a.kind, name: a.fileName ?? '', reason: err.message });
            }
            if (!sent) {
              // The platform cannot carry this kind (or the file is gone): say so, never drop it.
              const line = t('support.file_placeholder', { kind: t(`staff.kinds.${a.kind}`), name: a.fileName ?? '' });
              sent = await withRetry(() => messenger.sendText(to, caption ? `${caption}\n${line}` : line, undefined, key));
            } else if (note) {
              const noteKey = once();
              await withRetry(() => messenger.sendText(to, note, undefined, noteKey));
            }
            lastId = sent;
            caption = undefined;
          }
        }
        await support.markDelivered(input.messageId, lastId ?? '');
        const staffT = translator.t(staffLanguage);
        for (const line of asLines) {
          logger.info({ conversationId: input.conversationId, kind: line.kind, err: { message: line.reason } }, 'operator file sent as a line');
          await poster.notice(input.conversationId, 'file_as_line', { kind: staffT(`staff.kinds.${line.kind}`), name: escapeHtml(line.name), reason: escapeHtml(line.reason.slice(0, 200)) });
        }
        return { ok: true };
      } catch (err) {
        return failed(input.conversationId, input.messageId, to, err);
      }
    },

    /** A line for the customer (auto-reply, out of hours, closed), from locales/<lang>/support.json. */
    async tell(conversationId: string, to: Recipient, key: string, params: Record<string, string | number> = {}, keyboard?: InlineButtons): Promise<DeliveryOutcome> {
      const messenger = messengers.get(to.platform);
      if (!messenger) return { ok: false, reason: 'no_channel', error: `no ${to.platform} channel` };
      if (to.blocked) return { ok: false, reason: 'blocked', error: 'blocked' };
      try {
        await withRetry(() => messenger.sendText(to, translator.t(to.language)(`support.${key}`, params), keyboard));
        return { ok: true };
      } catch (err) {
        return failed(conversationId, undefined, to, err);
      }
    },

    /** The operator closed: the customer is back with the bot and asked for a rating. */
    async tellClosed(conversationId: string, to: Recipient): Promise<DeliveryOutcome> {
      return this.tell(conversationId, to, 'closed_by_operator', {}, ratingKeyboard(conversationId));
    },
  };
}

export type OperatorReplies = ReturnType<typeof createOperatorReplies>;
