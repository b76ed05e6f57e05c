import { isDomainError } from '../../errors.js';
import type { StaffContext } from '../context.js';

/** The conversation a message or button belongs to is found by its topic. */
export function topicOf(ctx: StaffContext): { chatId: string; threadId: string } | undefined {
  const message = ctx.callbackQuery?.message ?? ctx.message;
  if (!message || !('message_thread_id' in message) || message.message_thread_id === undefined) return undefined;
  return { chatId: String(message.chat.id), threadId: String(message.message_thread_id) };
}

/** A short answer on the pressed button (or a reply in the topic to a command). */
export async function answer(ctx: StaffContext, text: string, alert = false): Promise<void> {
  if (ctx.callbackQuery) {
    await ctx.answerCbQuery(text, { show_alert: alert }).catch(() => undefined);
  }
}

/** Maps a domain refusal to the staff-facing line. */
export function refusal(ctx: StaffContext, err: unknown): string | undefined {
  if (!isDomainError(err)) return undefined;
  const reason = (err.details as { reason?: string } | undefined)?.reason;
  if (err.code === 'conflict' && reason === 'taken') return ctx.t('staff.errors.taken');
  if (err.code === 'conflict' && reason === 'closed') return ctx.t('staff.errors.closed');
  if (err.code === 'forbidden') return ctx.t('staff.errors.forbidden');
  if (err.code === 'not_found') return ctx.t('staff.errors.not_found');
  if (err.code === 'invalid_input') return ctx.t('staff.errors.invalid', { max: (err.details as { max?: number } | undefined)?.max ?? '' });
  return undefined;
}
