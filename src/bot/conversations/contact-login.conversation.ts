/**
 * Login by sharing one's own contact (channels with requestContact). Only a contact whose
 * user_id is the sender's is accepted: a forwarded card, a typed-in number or someone
 * else's contact is refused and the flow keeps waiting. The contact's phone is read as an
 * international number (normalizeInternationalPhone). A login held back as a possibly
 * recycled number goes on with the owner check (owner-check-login.ts).
 */
import { normalizeInternationalPhone } from '../../domain/customers/phone.js';
import type { FlowArgs, FlowContext, PendingAction } from '../context.js';
import { runIn, type BotKit, type Flow, type Run } from '../kit.js';
import { announceLogin, finishLogin } from './finish-login.js';
import { askOwnerCheck, ownerCheckOf, type OwnerCheck } from './owner-check-login.js';

export const CONTACT_LOGIN_CONVERSATION = 'contact-login';

export interface LoginArgs extends FlowArgs {
  pending?: PendingAction | undefined;
  /** A phone the person typed before the flow started (phone-code logins use it as the first answer). */
  phone?: string | undefined;
  /** A contact shared outside the flow proved the phone but the login was held back: start at the owner check. */
  ownerCheck?: OwnerCheck | undefined;
}

export const REMOVE_KEYBOARD = { reply_markup: { remove_keyboard: true as const } };

/**
 * The next update of a login flow. A button press or a command means the person went
 * elsewhere: they are told the login was cancelled and the update is handled as usual.
 */
export async function nextLoginUpdate(conversation: Flow, cancelledText: string): Promise<FlowContext> {
  const next = await conversation.wait();
  if (next.callbackQuery || next.message?.text?.startsWith('/')) {
    await next.reply(cancelledText, REMOVE_KEYBOARD);
    return conversation.halt({ next: true });
  }
  return next;
}

/**
 * A contact message that is the sender's own: user_id present and equal to the sender
 * (common practice, not a documented guarantee), and not forwarded.
 */
export function isOwnContact(ctx: FlowContext): boolean {
  const message = ctx.message;
  const contact = message?.contact;
  return !!contact && contact.user_id !== undefined && contact.user_id === ctx.from?.id && !message?.forward_origin;
}

/**
 * Logs in with the contact in `ctx` (checked with isOwnContact first) and finishes the login.
 * Returns 'failed', after telling the person why, when the phone could not be used, and the
 * owner check to run when the login was held back (a possibly recycled number).
 */
export async function loginWithContact(kit: BotKit, run: Run, ctx: FlowContext, args: LoginArgs): Promise<'done' | 'failed' | OwnerCheck> {
  const t = kit.translator.t(args.lang);
  const contact = ctx.message!.contact!;
  const result = await run(() =>
    kit.services.identities.loginWithPhone(args.identityId, contact.phone_number, { firstName: contact.first_name, lastName: contact.last_name }, 'contact'),
  );
  if (!result.ok) {
    const check = ownerCheckOf(result, safeInternational(contact.phone_number));
    if (check) return check;
    await ctx.reply(t('auth.bad_phone'));
    return 'failed';
  }
  await announceLogin(kit, run, ctx, args, result.value);
  return 'done';
}

const safeInternational = (raw: string) => {
  try {
    return normalizeInternationalPhone(raw);
  } catch {
    return raw;
  }
};

/** Runs the owner check inside a login flow and finishes the login either way. */
export async function ownerCheckThenFinish(kit: BotKit, conversation: Flow, ctx: FlowContext, args: LoginArgs, check: OwnerCheck): Promise<void> {
  const run = runIn(conversation);
  const checked = await askOwnerCheck(kit, conversation, ctx, args, check);
  if (checked.ok) return announceLogin(kit, run, checked.ctx, args, { customerId: checked.customerId, created: checked.created, language: checked.language });
  await finishLogin(kit, run, checked.ctx, args, null);
}

export function createContactLoginConversation(kit: BotKit) {
  return async function contactLogin(conversation: Flow, ctx: FlowContext, args: LoginArgs): Promise<void> {
    const t = kit.translator.t(args.lang);
    const run = runIn(conversation);
    if (args.ownerCheck) return ownerCheckThenFinish(kit, conversation, ctx, args, args.ownerCheck);
    await ctx.reply(t('auth.prompt'), {
      reply_markup: {
        keyboard: [[{ text: t('auth.share'), request_contact: true }], [{ text: t('auth.cancel') }]],
        resize_keyboard: true,
        one_time_keyboard: true,
      },
    });
    for (;;) {
      const next = await nextLoginUpdate(conversation, t('auth.cancelled'));
      if (next.message?.text === t('auth.cancel')) {
        await next.reply(t('auth.cancelled'), REMOVE_KEYBOARD);
        await finishLogin(kit, run, next, args, null);
        return;
      }
      if (!next.message?.contact) {
        await next.reply(t('auth.need_contact'));
        continue;
      }
      if (!isOwnContact(next)) {
        await next.reply(t('auth.not_own'));
        continue;
      }
      const outcome = await loginWithContact(kit, run, next, args);
      if (outcome === 'done') return;
      if (outcome !== 'failed') return ownerCheckThenFinish(kit, conversation, next, args, outcome);
    }
  };
}
