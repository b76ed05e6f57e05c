/**
 * Take, release, reassign: the first operator to take a conversation owns it (buttons on the
 * card, or /take in the topic); the assignee or an admin releases it; admins give it to
 * someone else (the "reassign" button lists the staff, or /assign <telegram user id>).
 */
import { Composer } from 'telegraf';
import { escapeHtml, formatDate, formatMoney } from '../../lib/format.js';
import { isAdmin, type StaffContext, type StaffKit } from '../context.js';
import { staffCb } from '../render.js';
import { answer, refusal, topicOf } from './helpers.js';

export function assignmentFeature(kit: StaffKit) {
  const { support, staff, poster, cards } = kit.services;
  const composer = new Composer<StaffContext>();

  async function inTopic(ctx: StaffContext) {
    const topic = topicOf(ctx);
    return topic ? { topic, conversation: await support.byTopic(topic.chatId, topic.threadId) } : undefined;
  }

  async function take(ctx: StaffContext, conversationId: string) {
    const done = await support.take(conversationId, ctx.staff);
    await answer(ctx, ctx.t(done.changed ? 'staff.toasts.taken' : 'staff.toasts.already_yours'));
    if (done.changed) {
      await poster.refresh(conversationId);
      await poster.notice(conversationId, 'taken', { name: escapeHtml(ctx.staff.name) });
    }
  }

  async function release(ctx: StaffContext, conversationId: string) {
    const done = await support.release(conversationId, ctx.staff);
    await answer(ctx, ctx.t(done.changed ? 'staff.toasts.released' : 'staff.toasts.not_assigned'));
    if (done.changed) {
      await poster.refresh(conversationId);
      await poster.notice(conversationId, 'released', { name: escapeHtml(ctx.staff.name) });
    }
  }

  async function reassign(ctx: StaffContext, conversationId: string, telegramUserId: string) {
    const done = await support.reassign(conversationId, ctx.staff, telegramUserId);
    await answer(ctx, ctx.t('staff.toasts.reassigned', { name: done.assignee.name }));
    await poster.refresh(conversationId);
    await poster.notice(conversationId, 'reassigned', { name: escapeHtml(done.assignee.name), by: escapeHtml(ctx.staff.name) });
  }

  async function guarded(ctx: StaffContext, run: () => Promise<void>) {
    try {
      await run();
    } catch (err) {
      const line = refusal(ctx, err);
      if (!line) throw err;
      if (ctx.callbackQuery) await answer(ctx, line, true);
      else {
        const topic = topicOf(ctx);
        if (topic) await poster.post({ chatId: topic.chatId, threadId: Number(topic.threadId), text: line });
      }
    }
  }

  composer.on('callback_query', async (ctx, next) => {
    const data = 'data' in ctx.callbackQuery ? ctx.callbackQuery.data : undefined;
    const action = staffCb.decode(data);
    if (!action || action.action === 'close') return next();
    await guarded(ctx, async () => {
      switch (action.action) {
        case 'take':
          return take(ctx, action.conversationId);
        case 'release':
          return release(ctx, action.conversationId);
        case 'to':
          return reassign(ctx, action.conversationId, action.telegramUserId);
        case 'assign': {
          if (!isAdmin(ctx)) return answer(ctx, ctx.t('staff.errors.admins_only'), true);
          const conversation = await support.get(action.conversationId);
          const members = (await staff.list(20)).filter((m) => m.id !== conversation.assigneeId);
          await answer(ctx, ctx.t('staff.toasts.pick'));
          if (!conversation.staffChatId || !conversation.staffThreadId) return;
          await poster.post({
            chatId: conversation.staffChatId,
            threadId: Number(conversation.staffThreadId),
            text: members.length ? ctx.t('staff.assign.pick') : ctx.t('staff.assign.nobody'),
            replyMarkup: { inline_keyboard: members.map((m) => [{ text: m.name.slice(0, 40), callback_data: staffCb.encode({ action: 'to', conversationId: action.conversationId, telegramUserId: m.telegramUserId }) }]) },
          });
          return;
        }
        case 'orders': {
          const card = await cards.card(action.conversationId, { orders: 20 });
          const conversation = await support.get(action.conversationId);
          await answer(ctx, ctx.t('staff.toasts.orders'));
          if (!card || !conversation.staffChatId || !conversation.staffThreadId) return;
          const lines = card.orders.map((o) => `• №${escapeHtml(o.number)} — ${ctx.t(`orders.status.${o.status}`, { defaultValue: o.status })} — ${formatMoney(o.total, o.currency, kit.language)} — ${formatDate(o.placedAt, kit.language, kit.timeZone)}`);
          await poster.post({ chatId: conversation.staffChatId, threadId: Number(conversation.staffThreadId), parseMode: 'HTML', text: [ctx.t('staff.card.orders_more', { count: card.ordersTotal }), ...(lines.length ? lines : [ctx.t('staff.card.no_orders')])].join('\n') });
          return;
        }
      }
    });
  });

  composer.command('take', async (ctx, next) => {
    const found = await inTopic(ctx);
    if (!found?.conversation) return next();
    await guarded(ctx, () => take(ctx, found.conversation!.id));
  });
  composer.command('release', async (ctx, next) => {
    const found = await inTopic(ctx);
    if (!found?.conversation) return next();
    await guarded(ctx, () => release(ctx, found.conversation!.id));
  });
  composer.command('assign', async (ctx, next) => {
    const found = await inTopic(ctx);
    if (!found?.conversation) return next();
    const target = /^\d{1,20}$/.exec(ctx.payload.trim())?.[0];
    await guarded(ctx, async () => {
      if (!target) {
        await poster.post({ chatId: found.topic.chatId, threadId: Number(found.topic.threadId), text: ctx.t('staff.assign.usage') });
        return;
      }
      await reassign(ctx, found.conversation!.id, target);
    });
  });
  return composer;
}
