/**
 * Adding or editing an address, one question per field. When editing, "=" keeps the
 * current value. Validation happens once at the end (the domain owns the rules); a bad
 * field is asked again.
 */
import type { AddressDto, AddressInput } from '../../domain/customers/addresses.js';
import type { FlowArgs, FlowContext } from '../context.js';
import { askText, attempt, type BotKit, type Flow } from '../kit.js';
import { show } from '../render.js';
import { addressCard } from '../views/profile.view.js';
import { escapeHtml } from '../html.js';

export const ADDRESS_FORM_CONVERSATION = 'address-form';

export interface AddressFormArgs extends FlowArgs {
  customerId: string;
  /** Absent: a new address. */
  addressId?: string | undefined;
}

const FIELDS = ['city', 'street', 'house', 'apartment'] as const;
type Field = (typeof FIELDS)[number];

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
    const ask = async (field: Field) => {
      const existing = current?.[field];
      const question = t(`addresses.ask.${field}`) + (existing ? `\n${t('addresses.ask.current', { value: escapeHtml(existing) })}` : '');
      await reply.reply(question, { parse_mode: 'HTML' });
      const answer = await askText(conversation, (other) => other.reply(t('profile.text_expected')));
      reply = answer.ctx;
      const text = answer.text.trim();
      input[field] = text === '=' && current ? (current[field] ?? '') : text;
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
      await reply.reply(t('addresses.invalid', { field: t(`addresses.ask.${field as Field}`) }));
      await ask(field as Field);
    }
  };
}
