/**
 * A customer's own profile: names, email, birthday (set once), notification preferences.
 * Every change is recorded for the shop (customer.updated) in the same transaction.
 */
import { DomainError } from '../../errors.js';
import { clip } from '../../lib/clip.js';
import type { Clock } from '../../infra/clock.js';
import type { PrismaClient } from '../../infra/prisma.js';
import { noOutboxDispatch, transactionWithOutbox, type OutboxDispatcher } from '../../outbox/enqueue.js';

export interface ProfileDto {
  customerId: string;
  phone: string;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  /** YYYY-MM-DD */
  birthday: string | null;
  language: string;
  notifyOrderUpdates: boolean;
  notifyPromotions: boolean;
  /** The customer agreed to promotions (marketing consent); they go out only with it. */
  marketingConsent: boolean;
}

/** Where a consent answer was given (ConsentEvent.source). */
export type ConsentSource = 'telegram' | 'vk' | 'sandbox' | 'shop';

export type NotificationPreference = 'orderUpdates' | 'promotions';

const NAME_MAX = 100;
// Deliberately practical, not RFC 5322: one @, a dot in the domain, no spaces.
const EMAIL_RE = /^[^\s@<>()\[\],;:"]+@[^\s@<>()\[\],;:"]+\.[^\s@<>()\[\],;:".]{2,}$/;

/** Validates and normalises an email; throws invalid_input. */
export function normalizeEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (email.length > 254 || !EMAIL_RE.test(email)) throw new DomainError('invalid_input', 'Not a valid email', { field: 'email' });
  return email;
}

/** Parses "DD.MM.YYYY" or "YYYY-MM-DD" into a calendar date; throws invalid_input. */
export function parseBirthday(raw: string, today: Date): string {
  const text = raw.trim();
  let m = /^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$/.exec(text);
  let y: number, mo: number, d: number;
  if (m) {
    d = Number(m[1]); mo = Number(m[2]); y = Number(m[3]);
  } else if ((m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(text))) {
    y = Number(m[1]); mo = Number(m[2]); d = Number(m[3]);
  } else {
    throw new DomainError('invalid_input', 'Not a date', { field: 'birthday' });
  }
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) {
    throw new DomainError('invalid_input', 'Not a calendar date', { field: 'birthday' });
  }
  const age = today.getUTCFullYear() - y;
  if (date > today || age > 120) throw new DomainError('invalid_input', 'Birthday out of range', { field: 'birthday' });
  return date.toISOString().slice(0, 10);
}

export function createProfileService(deps: { prisma: PrismaClient; clock: Clock; outbox?: OutboxDispatcher }) {
  const { prisma, clock } = deps;
  const outbox = deps.outbox ?? noOutboxDispatch;

  const toDto = (c: {
    id: string; phone: string; firstName: string | null; lastName: string | null; email: string | null; birthday: Date | null;
    language: string; notifyOrderUpdates: boolean; notifyPromotions: boolean; marketingConsent: boolean;
  }): ProfileDto => ({
    customerId: c.id,
    phone: c.phone,
    firstName: c.firstName,
    lastName: c.lastName,
    email: c.email,
    birthday: c.birthday ? c.birthday.toISOString().slice(0, 10) : null,
    language: c.language,
    notifyOrderUpdates: c.notifyOrderUpdates,
    notifyPromotions: c.notifyPromotions,
    marketingConsent: c.marketingConsent,
  });

  async function update(customerId: string, data: Record<string, string | boolean | null>, fields: string[]): Promise<ProfileDto> {
    return transactionWithOutbox(prisma, outbox, async ({ tx, emit }) => {
      const row = await tx.customer.update({ where: { id: customerId }, data });
      await emit('customer.updated', { customerId, fields, changes: data });
      return toDto(row);
    });
  }

  return {
    async get(customerId: string): Promise<ProfileDto> {
      const row = await prisma.customer.findUnique({ where: { id: customerId } });
      if (!row) throw new DomainError('not_found', 'Customer not found');
      return toDto(row);
    },

    /** "First Last" or just "First"; the last word is the last name when there are several. */
    async setName(customerId: string, raw: string): Promise<ProfileDto> {
      const parts = raw.trim().split(/\s+/).filter(Boolean);
      if (parts.length === 0 || raw.trim().length > NAME_MAX * 2) throw new DomainError('invalid_input', 'Name is empty or too long', { field: 'name' });
      const firstName = clip(parts.length > 1 ? parts.slice(0, -1).join(' ') : parts[0]!, NAME_MAX);
      const lastName = parts.length > 1 ? clip(parts[parts.length - 1]!, NAME_MAX) : null;
      return update(customerId, { firstName, lastName }, ['firstName', 'lastName']);
    },

    async setEmail(customerId: string, raw: string): Promise<ProfileDto> {
      return update(customerId, { email: normalizeEmail(raw) }, ['email']);
    },

    /** Sets the birthday once; a second attempt is a conflict (the shop changes it on request). */
    async setBirthday(customerId: string, raw: string): Promise<ProfileDto> {
      const birthday = parseBirthday(raw, clock.now());
      return transactionWithOutbox(prisma, outbox, async ({ tx, emit }) => {
        // Conditional update: two racing attempts cannot both set it.
        const { count } = await tx.customer.updateMany({ where: { id: customerId, birthday: null }, data: { birthday: new Date(`${birthday}T00:00:00Z`) } });
        if (count === 0) throw new DomainError('conflict', 'Birthday is already set', { field: 'birthday' });
        await emit('customer.updated', { customerId, fields: ['birthday'], changes: { birthday } });
        const row = await tx.customer.findUniqueOrThrow({ where: { id: customerId } });
        return toDto(row);
      });
    },

    /**
     * The customer's answer about promotions: the consent, its history (a ConsentEvent with
     * where it was given) and the promotions switch follow it together, in one transaction.
     * Every answer is on record, a "no" to the question too; the shop hears of a change.
     */
    async setMarketingConsent(customerId: string, granted: boolean, source: ConsentSource): Promise<ProfileDto> {
      return transactionWithOutbox(prisma, outbox, async ({ tx, emit }) => {
        const before = await tx.customer.findUnique({ where: { id: customerId }, select: { marketingConsent: true, notifyPromotions: true } });
        if (!before) throw new DomainError('not_found', 'Customer not found');
        const row = await tx.customer.update({ where: { id: customerId }, data: { marketingConsent: granted, notifyPromotions: granted } });
        await tx.consentEvent.create({ data: { customerId, kind: 'marketing', granted, source } });
        if (before.marketingConsent !== granted || before.notifyPromotions !== granted) {
          await emit('customer.updated', { customerId, fields: ['marketingConsent', 'notifyPromotions'], changes: { marketingConsent: granted, notifyPromotions: granted } });
        }
        return toDto(row);
      });
    },

    async setNotificationPreference(customerId: string, preference: NotificationPreference, enabled: boolean): Promise<ProfileDto> {
      const field = preference === 'orderUpdates' ? 'notifyOrderUpdates' : 'notifyPromotions';
      return update(customerId, { [field]: enabled }, [field]);
    },
  };
}

export type ProfileService = ReturnType<typeof createProfileService>;
