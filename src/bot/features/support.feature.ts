/**
 * Support, the customer's side once a conversation is open: every message (text, photos,
 * documents, voice, stickers) goes to the operators instead of the menu fallback; the menu and
 * its buttons keep working (they are handled before this feature). The customer ends the chat
 * with a button and rates it 1-5; one free text after rating is the comment.
 */
import { Composer } from 'grammy';
import { FlatComposer } from '../sequence.js';
import { isDomainError } from '../../errors.js';
import type { BotContext } from '../context.js';
import type { BotKit } from '../kit.js';
import { staleButton } from './helpers.js';
import { endChatKeyboard, ratingKeyboard, supportCb } from './support-callbacks.js';
import { customerAttachments, customerText } from './support-files.js';

const COMMENT_WINDOW_MS = 30 * 60_000;

/** Tells the operators: relay the stored message (and reopen the topic when the conversation was opened again). */
export async function hand(kit: BotKit, result: { conversationId: string; messageId: string; opened: boolean }): Promise<void> {
  const poster = kit.services.desk.poster;
  if (!poster) return;
  try {
    if (result.opened) await poster.refresh(result.conversationId);
    await poster.relay(result.conversationId, result.messageId);
  } catch (err) {
    // Stored and committed: the support sweeper posts it when the queue is back.
    kit.logger.warn({ err, conversationId: result.conversationId }, 'support relay not queued; the sweeper will post it');
  }
}

export function createSupportFeature(kit: BotKit): Composer<BotContext> {
  const { support, desk } = kit.services;
  const composer = new FlatComposer<BotContext>();

  composer.callbackQuery(supportCb.pattern, async (ctx) => {
    const a = supportCb.decode(ctx.callbackQuery.data);
    if (!a) return staleButton(ctx);
    const identityId = ctx.account.identityId;
    try {
      if (a.action === 'end') {
        const done = await support.close(a.id, { identityId });
        await ctx.answerCallbackQuery();
        if (!done.changed) {
          await ctx.reply(ctx.t('support.not_open'));
          return;
        }
        await ctx.reply(ctx.t('support.ended'), { reply_markup: ratingKeyboard(a.id) });
        await desk.poster?.notice(a.id, 'closed_by_customer');
        await desk.poster?.refresh(a.id);
        return;
      }
      await support.rate(a.id, identityId, a.n);
      const stars = '⭐'.repeat(a.n);
      await ctx.answerCallbackQuery({ text: stars });
      await ctx.reply(ctx.t('support.rated', { stars }));
      await desk.poster?.notice(a.id, 'rated', { stars: '★'.repeat(a.n) + '☆'.repeat(5 - a.n), rating: a.n });
      await desk.poster?.refresh(a.id);
    } catch (err) {
      if (isDomainError(err) && ['not_found', 'conflict', 'invalid_input'].includes(err.code)) return staleButton(ctx);
      throw err;
    }
  });

  composer.on('message', async (ctx, next) => {
    const message = ctx.message;
    if (message.text?.startsWith('/')) return next();
    const identityId = ctx.account.identityId;
    const { attachments, unsupported } = customerAttachments(message);
    const text = customerText(message, unsupported, (kind) => ctx.t('staff.relay.unsupported', { kind }));
    if (!text && attachments.length === 0) return next();
    // Most free texts come with no conversation open: one indexed read decides.
    const open = await support.activeFor(identityId);
    let result = null;
    try {
      if (open) result = await support.customerWrites(identityId, { text, attachments }, { open: false });
    } catch (err) {
      if (isDomainError(err) && err.code === 'invalid_input') {
        await ctx.reply(ctx.t('help.human.too_long'));
        return;
      }
      throw err;
    }
    if (!result) {
      // No open conversation: right after a rating, one text is its comment.
      const target = message.text ? await support.commentTarget(identityId, COMMENT_WINDOW_MS) : null;
      if (!target) return next();
      try {
        const saved = await support.comment(target, identityId, message.text!);
        await ctx.reply(ctx.t('support.comment_saved'));
        await desk.poster?.notice(target, 'rated_comment', { comment: saved.comment.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!) });
        await desk.poster?.refresh(target);
      } catch (err) {
        if (isDomainError(err) && err.code === 'invalid_input') await ctx.reply(ctx.t('help.human.too_long'));
        else throw err;
      }
      return;
    }
    await hand(kit, result);
  });
  return composer;
}

export { endChatKeyboard };
