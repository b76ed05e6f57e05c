/**
 * Closing: the operator's "close" button (or /close in the topic) ends the conversation; the
 * customer is back with the bot and asked for a 1-5 rating; the topic is closed until the
 * customer writes to a person again. The rating shows in the topic when it comes.
 */
import { Composer } from 'telegraf';
import { escapeHtml } from '../../lib/format.js';
import type { StaffContext, StaffKit } from '../context.js';
import { staffCb } from '../render.js';
import { answer, refusal, topicOf } from './helpers.js';

export function closingFeature(kit: StaffKit) {
  const { support, poster, replyQueue } = kit.services;
  const composer = new Composer<StaffContext>();

  async function close(ctx: StaffContext, conversationId: string) {
    try {
      const done = await support.close(conversationId, { staff: ctx.staff });
      await answer(ctx, ctx.t(done.changed ? 'staff.toasts.closed' : 'staff.toasts.already_closed'));
      if (!done.changed) return;
      await poster.notice(conversationId, 'closed', { name: escapeHtml(ctx.staff.name) });
      await poster.refresh(conversationId);
      // After the answers written before the close (same queue, same order).
      await replyQueue.closed(conversationId);
    } catch (err) {
      const line = refusal(ctx, err);
      if (!line) throw err;
      await answer(ctx, line, true);
    }
  }

  composer.on('callback_query', async (ctx, next) => {
    const action = staffCb.decode('data' in ctx.callbackQuery ? ctx.callbackQuery.data : undefined);
    if (action?.action !== 'close') return next();
    await close(ctx, action.conversationId);
  });
  composer.command('close', async (ctx, next) => {
    const topic = topicOf(ctx);
    const conversation = topic ? await support.byTopic(topic.chatId, topic.threadId) : null;
    if (!conversation) return next();
    await close(ctx, conversation.id);
  });
  return composer;
}
