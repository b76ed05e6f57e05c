/**
 * Adding or editing an address, one question per field. Each answer is checked as it is
 * given, with the domain's own rules (checkAddressField): what is wrong is said in words and
 * the same question asked again. When editing, "=" keeps the current value. Every question
 * carries a cancel button.
 */
import { checkAddressField, type AddressDto, type AddressInput, type AddressTextField } from '../../domain/customers/addresses.js';
import type { FlowArgs, FlowContext } from '../context.js';
import { askText, attempt, promptOptions, type BotKit, type Flow } from '../kit.js';
import { show } from '../render.js';
import { addressCard } from '../views/profile.view.js';
import { escapeHtml } from '../html.js';
import type { TFunction } from '../../infra/i18n.js';

export const ADDRESS_FORM_CONVERSATION = 'address-form';

export interface AddressFormArgs extends FlowArgs {
  customerId: string;
  /** Absent: a new address. */
  addressId?: string | undefined;
}

const FIELDS = ['city', 'street', 'house', 'apartment'] as const satisfies readonly AddressTextField[];
type Field = (typeof FIELDS)[number];

/** What is wrong with an answer, in words, from the domain's reason. */
function problemText(t: TFunction, field: Field, details: Record<string, unknown>): string {
  const what = t(`addresses.fields.${field}`);
  switch (details.reason) {
    case 'required':
      return t('addresses.problem.required', { what });
    case 'too_long':
      return t('addresses.problem.too_long', { what, max: Number(details.max) });
    case 'no_letters':
      return t('addresses.problem.no_letters', { what });
    default:
      return t('addresses.problem.other', { what });
  }
}

export function createAddressFormConversation(kit: BotKit) {
  return async function addressForm(conversation: Flow, ctx: FlowContext, args: AddressFormArgs): Promise<void> {
    const view = kit.view(args.lang);
    const { t } = view;
    let current: AddressDto | null = null;
    if (args.addressId) {
      const found = await attempt(conversation, () => kit.services.addresses.get(args.customerId, args.addressId!));
      if (!found.ok) {
        await ctx.reply(t('addresses.not_found'));
        return;
      }
      current = found.value;
    }
    const input: AddressInput = { city: '', street: '', house: '', apartment: null, postcode: current?.postcode ?? null, comment: current?.comment ?? null };
    let reply: FlowContext = ctx;
    const question = (field: Field) => {
      const existing = current?.[field];
      return t(`addresses.ask.${field}`) + (existing ? `\n${t('addresses.ask.current', { value: escapeHtml(existing) })}` : '');
    };
    /** Asks until the answer passes the field's rules; `before` says what was wrong with the last one. */
    const ask = async (field: Field, before?: string) => {
      let problem = before;
      for (;;) {
        const text = problem ? `${escapeHtml(problem)}\n\n${question(field)}` : question(field);
        await reply.reply(text, promptOptions(t, { parse_mode: 'HTML' }));
        const answer = await askText(conversation, (other) => other.reply(t('profile.text_expected'), promptOptions(t)));
        reply = answer.ctx;
        const raw = answer.text.trim();
        const value = raw === '=' && current ? (current[field] ?? '') : raw;
        // A pure rule check (no I/O): it runs again identically when the flow is replayed.
        try {
          checkAddressField(field, value);
          input[field] = value;
          return;
        } catch (err) {
          const details = (err as { details?: Record<string, unknown> }).details;
          if (!details) throw err;
          problem = problemText(t, field, details);
        }
      }
    };
    for (const field of FIELDS) await ask(field);
    for (;;) {
      const saved = await attempt(conversation, () =>
        args.addressId ? kit.services.addresses.update(args.customerId, args.addressId, input) : kit.services.addresses.add(args.customerId, input),
      );
      if (saved.ok) {
        await reply.reply(t(args.addressId ? 'addresses.updated' : 'addresses.added'));
        const card = addressCard(view, saved.value);
        await show(reply, card.text, card.keyboard, { fresh: true });
        return;
      }
      if (saved.code === 'conflict') {
        await reply.reply(t('addresses.limit', { count: Number(saved.details.max) }));
        return;
      }
      if (saved.code === 'not_found') {
        await reply.reply(t('addresses.not_found'));
        return;
      }
      const field = saved.details.field;
      if (saved.code !== 'invalid_input' || !FIELDS.includes(field as Field)) throw new Error(`Unexpected ${saved.code} while saving an address`);
      await ask(field as Field, problemText(t, field as Field, saved.details));
    }
  };
}
