/**
 * Delivery addresses: a customer has any number, at most one default. The first address
 * becomes the default; deleting the default promotes the newest remaining one.
 */
import { DomainError } from '../../errors.js';
import type { PrismaClient } from '../../infra/prisma.js';
import type { Prisma } from '../../generated/prisma/client.js';
import type { CustomerAddressChangedPayload } from '../../outbox/events.js';
import { noOutboxDispatch, transactionWithOutbox, type OutboxDispatcher, type OutboxTx } from '../../outbox/enqueue.js';

export interface AddressDto {
  id: string;
  city: string;
  street: string;
  house: string;
  apartment: string | null;
  postcode: string | null;
  comment: string | null;
  isDefault: boolean;
}

export interface AddressInput {
  city: string;
  street: string;
  house: string;
  apartment?: string | null | undefined;
  postcode?: string | null | undefined;
  comment?: string | null | undefined;
}

export const MAX_ADDRESSES = 10;

/** Why a field was refused (DomainError details.reason), so each edge can say it in words. */
export type AddressFieldProblem = 'required' | 'too_long' | 'no_letters';

const clean = (value: string | null | undefined, field: string, max: number, required: boolean, letters = false): string | null => {
  const v = value?.trim() ?? '';
  if (v === '' || v === '-') {
    if (required) throw new DomainError('invalid_input', `${field} is required`, { field, reason: 'required' });
    return null;
  }
  if (v.length > max) throw new DomainError('invalid_input', `${field} is too long`, { field, reason: 'too_long', max });
  // A city or a street is a name: "123" or "..." is a slip, not an address.
  if (letters && !/\p{L}/u.test(v)) throw new DomainError('invalid_input', `${field} has no letters`, { field, reason: 'no_letters' });
  return v;
};

export type AddressTextField = 'city' | 'street' | 'house' | 'apartment';

const FIELD_RULES: Record<AddressTextField, { max: number; required: boolean; letters: boolean }> = {
  city: { max: 100, required: true, letters: true },
  street: { max: 200, required: true, letters: true },
  house: { max: 20, required: true, letters: false },
  apartment: { max: 20, required: false, letters: false },
};

/**
 * Checks one answer of the address form as it is given, with the same rules `add`/`update`
 * apply to the whole address: the cleaned value (null for an optional field left out with
 * "-" or nothing), or invalid_input with details { field, reason, max? }.
 */
export function checkAddressField(field: AddressTextField, raw: string): string | null {
  const rule = FIELD_RULES[field];
  return clean(raw, field, rule.max, rule.required, rule.letters);
}

function validate(input: AddressInput) {
  const postcode = clean(input.postcode, 'postcode', 12, false);
  if (postcode && !/^[\dA-Za-z -]{3,12}$/.test(postcode)) throw new DomainError('invalid_input', 'postcode is not valid', { field: 'postcode' });
  return {
    city: checkAddressField('city', input.city)!,
    street: checkAddressField('street', input.street)!,
    house: checkAddressField('house', input.house)!,
    apartment: checkAddressField('apartment', input.apartment ?? ''),
    postcode,
    comment: clean(input.comment, 'comment', 300, false),
  };
}

const toDto = (a: AddressDto & Record<string, unknown>): AddressDto => ({
  id: a.id, city: a.city, street: a.street, house: a.house, apartment: a.apartment, postcode: a.postcode, comment: a.comment, isDefault: a.isDefault,
});

export function createAddressesService(deps: { prisma: PrismaClient; outbox?: OutboxDispatcher }) {
  const { prisma } = deps;
  const outbox = deps.outbox ?? noOutboxDispatch;
  const inTransaction = <R>(work: (t: OutboxTx) => Promise<R>) => transactionWithOutbox(prisma, outbox, work);

  async function owned(tx: Prisma.TransactionClient, customerId: string, addressId: string) {
    const row = await tx.address.findFirst({ where: { id: addressId, customerId } });
    if (!row) throw new DomainError('not_found', 'Address not found');
    return row;
  }

  async function changed({ tx, emit }: OutboxTx, customerId: string, action: CustomerAddressChangedPayload['action'], addressId: string) {
    const addresses = await tx.address.findMany({ where: { customerId }, orderBy: [{ isDefault: 'desc' }, { createdAt: 'asc' }] });
    await emit('customer.address_changed', { customerId, action, addressId, addresses: addresses.map(toDto) });
  }

  return {
    /** Default first, then oldest first. */
    async list(customerId: string): Promise<AddressDto[]> {
      const rows = await prisma.address.findMany({ where: { customerId }, orderBy: [{ isDefault: 'desc' }, { createdAt: 'asc' }, { id: 'asc' }] });
      return rows.map(toDto);
    },

    async get(customerId: string, addressId: string): Promise<AddressDto> {
      const row = await prisma.address.findFirst({ where: { id: addressId, customerId } });
      if (!row) throw new DomainError('not_found', 'Address not found');
      return toDto(row);
    },

    async add(customerId: string, input: AddressInput): Promise<AddressDto> {
      const data = validate(input);
      return inTransaction(async (t) => {
        const { tx } = t;
        const count = await tx.address.count({ where: { customerId } });
        if (count >= MAX_ADDRESSES) throw new DomainError('conflict', 'Too many addresses', { max: MAX_ADDRESSES });
        const row = await tx.address.create({ data: { ...data, customerId, isDefault: count === 0 } });
        await changed(t, customerId, 'added', row.id);
        return toDto(row);
      });
    },

    async update(customerId: string, addressId: string, input: AddressInput): Promise<AddressDto> {
      const data = validate(input);
      return inTransaction(async (t) => {
        const { tx } = t;
        await owned(tx, customerId, addressId);
        const row = await tx.address.update({ where: { id: addressId }, data });
        await changed(t, customerId, 'updated', addressId);
        return toDto(row);
      });
    },

    async remove(customerId: string, addressId: string): Promise<void> {
      await inTransaction(async (t) => {
        const { tx } = t;
        const row = await owned(tx, customerId, addressId);
        await tx.address.delete({ where: { id: addressId } });
        if (row.isDefault) {
          const next = await tx.address.findFirst({ where: { customerId }, orderBy: { createdAt: 'desc' } });
          if (next) await tx.address.update({ where: { id: next.id }, data: { isDefault: true } });
        }
        await changed(t, customerId, 'deleted', addressId);
      });
    },

    async setDefault(customerId: string, addressId: string): Promise<void> {
      await inTransaction(async (t) => {
        const { tx } = t;
        await owned(tx, customerId, addressId);
        await tx.address.updateMany({ where: { customerId, isDefault: true }, data: { isDefault: false } });
        await tx.address.update({ where: { id: addressId }, data: { isDefault: true } });
        await changed(t, customerId, 'default_changed', addressId);
      });
    },
  };
}

export type AddressesService = ReturnType<typeof createAddressesService>;
