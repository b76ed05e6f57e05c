/**
 * Login by phone and a one-time code, for any channel that cannot share a contact (VK).
 * The person types a phone; a code goes to their Telegram chat with the shop (when the
 * customer with that phone uses Telegram) or by SMS; they type it back. Platform-neutral:
 * plain text in, text and reply-keyboard buttons out, no capability other than text.
 *
 * A button press or a command leaves the flow and is handled as usual.
 */
import { normalizePhone } from '../../domain/customers/phone.js';
import type { PhoneLoginService } from '../../domain/phone-login/phone-login.service.js';
import type { PhoneLoginStrategy } from '../customer-bot.js';
import type { FlowContext } from '../context.js';
import { attempt, runIn, type BotKit, type Flow } from '../kit.js';
import { nextLoginUpdate, ownerCheckThenFinish, REMOVE_KEYBOARD, type LoginArgs } from './contact-login.conversation.js';
import { announceLogin, finishLogin } from './finish-login.js';
import { ownerCheckOf } from './owner-check-login.js';

export const PHONE_CODE_LOGIN_CONVERSATION = 'phone-code-login';

type Step = { kind: 'text'; ctx: FlowContext; text: string };

export function phoneCodeLoginStrategy(service: PhoneLoginService): PhoneLoginStrategy {
  return { id: PHONE_CODE_LOGIN_CONVERSATION, create: (kit) => createPhoneCodeLoginConversation(kit, service) };
}

export function createPhoneCodeLoginConversation(kit: BotKit, service: PhoneLoginService) {
  return async function phoneCodeLogin(conversation: Flow, ctx: FlowContext, args: LoginArgs): Promise<void> {
    const t = kit.translator.t(args.lang);
    const shop = kit.config.shop.name;
    const cancelOnly = { reply_markup: { keyboard: [[{ text: t('auth.cancel') }]], resize_keyboard: true, one_time_keyboard: true } };
    const codeKeyboard = {
      reply_markup: { keyboard: [[{ text: t('otp.resend') }], [{ text: t('otp.change_phone') }, { text: t('auth.cancel') }]], resize_keyboard: true },
    };

    /** The next typed text; leaves the flow on a button press or a command. */
    async function next(): Promise<Step> {
      for (;;) {
        const update = await nextLoginUpdate(conversation, t('auth.cancelled'));
        const text = update.message?.text;
        if (text !== undefined) return { kind: 'text', ctx: update, text: text.trim() };
        await update.reply(t('otp.ask_phone'));
      }
    }

    /**
     * Sends a code; true when it went out. The reply is the same whether the code went to
     * the customer's Telegram chat or by SMS: a stranger typing a number learns nothing of it.
     */
    async function sendCode(at: FlowContext, phone: string): Promise<boolean> {
      const sent = await attempt(conversation, () => service.requestCode(args.identityId, phone, args.lang));
      if (sent.ok) {
        await at.reply(t('otp.sent', { phone: sent.value.maskedPhone, minutes: Math.round(sent.value.expiresInSeconds / 60) }), codeKeyboard);
        return true;
      }
      const reason = sent.details.reason;
      const retry = Number(sent.details.retryAfterSeconds ?? 60);
      if (sent.code === 'invalid_input') await at.reply(t('otp.bad_phone'), cancelOnly);
      else if (reason === 'cooldown') await at.reply(t('otp.cooldown', { seconds: retry }));
      else if (sent.code === 'rate_limited') await at.reply(t('otp.too_many_requests', { minutes: Math.max(1, Math.ceil(retry / 60)) }));
      else await at.reply(t('otp.send_failed'));
      return false;
    }

    const cancel = async (at: FlowContext) => {
      await at.reply(t('auth.cancelled'), REMOVE_KEYBOARD);
      await finishLogin(kit, runIn(conversation), at, args, null);
    };

    let phone: string | undefined;
    if (args.phone) {
      if (await sendCode(ctx, args.phone)) phone = args.phone;
    } else {
      await ctx.reply(t('otp.ask_phone'), cancelOnly);
    }
    for (;;) {
      // Phone step.
      while (!phone) {
        const step = await next();
        if (step.text === t('auth.cancel')) return cancel(step.ctx);
        if (await sendCode(step.ctx, step.text)) phone = step.text;
      }
      // Code step.
      const step = await next();
      if (step.text === t('auth.cancel')) return cancel(step.ctx);
      if (step.text === t('otp.change_phone')) {
        phone = undefined;
        await step.ctx.reply(t('otp.ask_phone'), cancelOnly);
        continue;
      }
      if (step.text === t('otp.resend')) {
        await sendCode(step.ctx, phone);
        continue;
      }
      const verified = await attempt(conversation, () => service.verifyCode(args.identityId, step.text));
      if (verified.ok) {
        await announceLogin(kit, runIn(conversation), step.ctx, { ...args, customerId: verified.value.customerId }, verified.value);
        return;
      }
      // The code was right but the login was held back (a possibly recycled number).
      const check = ownerCheckOf(verified, normalizePhone(phone));
      if (check) return ownerCheckThenFinish(kit, conversation, step.ctx, args, check);
      switch (verified.details.reason) {
        case 'bad_format':
          await step.ctx.reply(t('otp.bad_format'));
          break;
        case 'wrong_code':
          await step.ctx.reply(t('otp.wrong_code', { left: Number(verified.details.attemptsLeft ?? 0) }));
          break;
        case 'expired':
          await step.ctx.reply(t('otp.expired'), codeKeyboard);
          break;
        case 'too_many_attempts':
          await step.ctx.reply(t('otp.too_many_attempts'), codeKeyboard);
          break;
        default:
          phone = undefined;
          await step.ctx.reply(t('otp.no_code'), cancelOnly);
      }
    }
  };
}
