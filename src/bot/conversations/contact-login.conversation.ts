/**
 * Login by sharing one's own contact (channels with requestContact). Only a contact whose
 * user_id is the sender's is accepted: a forwarded card, a typed-in number or someone
 * else's contact is refused and the flow keeps waiting.
 */
import type { FlowArgs, FlowContext, PendingAction } from '../context.js';
import { attempt, type BotKit, type Flow } from '../kit.js';
import { finishLogin } from './finish-login.js';

export const CONTACT_LOGIN_CONVERSATION = 'contact-login';

export interface LoginArgs extends FlowArgs {
  pending?: PendingAction | undefined;
}

export function createContactLoginConversation(kit: BotKit) {
  return async function contactLogin(conversation: Flow, ctx: FlowContext, args: LoginArgs): Promise<void> {
    const t = kit.translator.t(args.lang);
    const removeKeyboard = { reply_markup: { remove_keyboard: true as const } };
    await ctx.reply(t('auth.prompt'), {
      reply_markup: {
        keyboard: [[{ text: t('auth.share'), request_contact: true }], [{ text: t('auth.cancel') }]],
        resize_keyboard: true,
        one_time_keyboard: true,
      },
    });
    for (;;) {
      const next = await conversation.wait();
      const text = next.message?.text;
      if (next.callbackQuery || text?.startsWith('/')) {
        await next.reply(t('auth.cancelled'), removeKeyboard);
        return conversation.halt({ next: true });
      }
      if (text === t('auth.cancel')) {
        await next.reply(t('auth.cancelled'), removeKeyboard);
        await finishLogin(kit, conversation, next, args, null);
        return;
      }
      const contact = next.message?.contact;
      if (!contact) {
        await next.reply(t('auth.need_contact'));
        continue;
      }
      // user_id === from.id is the accepted practice (not a documented guarantee); no user_id: refuse.
      if (contact.user_id === undefined || contact.user_id !== next.from?.id || next.message?.forward_origin) {
        await next.reply(t('auth.not_own'));
        continue;
      }
      const result = await attempt(conversation, () =>
        kit.services.identities.loginWithPhone(args.identityId, contact.phone_number, { firstName: contact.first_name, lastName: contact.last_name }),
      );
      if (!result.ok) {
        await next.reply(t('auth.bad_phone'));
        continue;
      }
      await next.reply(result.value.created ? `${t('auth.success')} ${t('auth.welcome_new')}` : t('auth.success'), removeKeyboard);
      await finishLogin(kit, conversation, next, args, result.value.customerId);
      return;
    }
  };
}
