/**
 * The extra step of a login held back because the number may have been recycled (see
 * IdentitiesService.loginWithPhone): the person proved the phone, but this messenger account
 * is new to a customer nobody has logged into for months. They must type what only the owner
 * knows — the account's email or the number of one of its orders — in a few attempts.
 * Shared by every login flow; runs inside the flow's conversation.
 */
import type { FlowContext } from '../context.js';
import { attempt, type BotKit, type Flow } from '../kit.js';
import { nextLoginUpdate, REMOVE_KEYBOARD, type LoginArgs } from './contact-login.conversation.js';

/** Carried from where the login was held back to the step that asks (serializable). */
export interface OwnerCheck {
  /** The proven phone, E.164. */
  phone: string;
  /** The account has an email or an order to ask about. */
  answerable: boolean;
}

export type OwnerCheckResult = { ok: true; ctx: FlowContext; customerId: string; created: boolean; language: string } | { ok: false; ctx: FlowContext };

/** Reads a held-back login out of a failed attempt's details (forbidden / confirm_owner). */
export function ownerCheckOf(failure: { code: string; details: Record<string, unknown> }, phone: string): OwnerCheck | undefined {
  if (failure.code !== 'forbidden' || failure.details.reason !== 'confirm_owner') return undefined;
  return { phone, answerable: failure.details.answerable === true };
}

export async function askOwnerCheck(kit: BotKit, conversation: Flow, ctx: FlowContext, args: LoginArgs, check: OwnerCheck): Promise<OwnerCheckResult> {
  const t = kit.translator.t(args.lang);
  if (!check.answerable) {
    await ctx.reply(t('auth.owner_check_unavailable'), REMOVE_KEYBOARD);
    return { ok: false, ctx };
  }
  await ctx.reply(t('auth.owner_check'), { reply_markup: { keyboard: [[{ text: t('auth.cancel') }]], resize_keyboard: true, one_time_keyboard: true } });
  for (;;) {
    const next = await nextLoginUpdate(conversation, t('auth.cancelled'));
    const text = next.message?.text?.trim();
    if (text === t('auth.cancel')) {
      await next.reply(t('auth.cancelled'), REMOVE_KEYBOARD);
      return { ok: false, ctx: next };
    }
    if (!text) {
      await next.reply(t('auth.owner_check'));
      continue;
    }
    const answered = await attempt(conversation, () => kit.services.identities.confirmOwner(args.identityId, check.phone, text));
    if (answered.ok) return { ok: true, ctx: next, ...answered.value };
    if (answered.details.reason === 'wrong_answer') {
      await next.reply(t('auth.owner_check_wrong', { left: Number(answered.details.attemptsLeft ?? 0) }));
      continue;
    }
    await next.reply(t(answered.details.reason === 'too_many_attempts' ? 'auth.owner_check_locked' : 'auth.owner_check_expired'), REMOVE_KEYBOARD);
    return { ok: false, ctx: next };
  }
}
