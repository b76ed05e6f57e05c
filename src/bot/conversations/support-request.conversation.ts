/**
 * "Talk to a person": opens a conversation with the operators, or opens the customer's last
 * one again. The first message (text, a photo, a file, a voice message...) is the question:
 * it goes to the staff group's topic with the customer card; the customer is told whether
 * someone answers now or when working hours start, and gets an "end chat" button. After that
 * every message goes to the operators (support.feature.ts) until the chat is closed.
 */
import type { FlowArgs, FlowContext } from '../context.js';
import { attempt, promptOptions, type BotKit, type Flow } from '../kit.js';
import { show } from '../render.js';
import { mainMenuMessage } from '../views/menu.view.js';
import { hand } from '../features/support.feature.js';
import { endChatKeyboard } from '../features/support-callbacks.js';
import { customerAttachments, customerText } from '../features/support-files.js';
import { formatDate } from '../../lib/format.js';

export const SUPPORT_REQUEST_CONVERSATION = 'support-request';

export function createSupportRequestConversation(kit: BotKit) {
  return async function supportRequest(conversation: Flow, ctx: FlowContext, args: FlowArgs): Promise<void> {
    const view = kit.view(args.lang);
    const { t } = view;
    const open = await conversation.external(() => kit.services.support.activeFor(args.identityId));
    if (open) {
      await ctx.reply(t('support.already_open'), { reply_markup: endChatKeyboard(open.id, t('support.end_button')) });
      return;
    }
    await ctx.reply(t('help.human.prompt'), promptOptions(t));
    for (;;) {
      const next = await conversation.wait();
      const message = next.message;
      // A button or a command: the person went elsewhere.
      if (next.callbackQuery || message?.text?.startsWith('/')) return conversation.halt({ next: true });
      const { attachments, unsupported } = customerAttachments(message);
      const text = customerText(message, unsupported, (kind) => t('staff.relay.unsupported', { kind }));
      if (!text && attachments.length === 0) {
        await next.reply(t('profile.text_expected'), promptOptions(t));
        continue;
      }
      const saved = await attempt(conversation, () => kit.services.support.customerWrites(args.identityId, { text, attachments }, { open: true }));
      if (!saved.ok || !saved.value) {
        await next.reply(t('help.human.too_long'), promptOptions(t));
        continue;
      }
      const result = saved.value;
      const outOfHours = await conversation.external(async () => {
        await hand(kit, result);
        const hours = kit.services.desk.hours;
        const now = new Date();
        if (hours.isOpen(now)) return null;
        await kit.services.support.markAutoReplied(result.conversationId);
        const when = hours.nextOpening(now);
        return when ? formatDate(when.toISOString(), args.lang, kit.timeZone, true) : '—';
      });
      const said = outOfHours ? t('support.out_of_hours', { when: outOfHours }) : t(result.reused ? 'help.human.appended' : 'help.human.sent');
      await next.reply(`${said}\n\n${t('support.connected')}`, { reply_markup: endChatKeyboard(result.conversationId, t('support.end_button')) });
      const menu = mainMenuMessage(view, next.channel, args.customerId !== null);
      await show(next, menu.text, menu.keyboard, { fresh: true });
      return;
    }
  };
}
