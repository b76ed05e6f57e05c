/**
 * Messenger accounts (ChannelIdentity) and logging in: an identity exists from the first
 * update, and is linked to a customer by a phone the messenger vouched for (a shared own
 * contact in Telegram, a verified code elsewhere).
 */
import { DomainError } from '../../errors.js';
import { clip } from '../../lib/clip.js';
import type { Clock } from '../../infra/clock.js';
import { sqlOf, type PrismaClient } from '../../infra/prisma.js';
import type { Platform } from '../../generated/prisma/enums.js';
import { noOutboxDispatch, transactionWithOutbox, type OutboxDispatcher } from '../../outbox/enqueue.js';
import { normalizeInternationalPhone } from './phone.js';
import { uuidV7 } from '../../lib/uuid.js';

export interface IdentityDto {
  identityId: string;
  platform: Platform;
  externalId: string;
  chatId: string;
  customerId: string | null;
  /** The language replies use: the customer's when logged in, else the identity's. */
  language: string | null;
}

export interface SeenUser {
  platform: Platform;
  externalId: string;
  chatId: string;
  username?: string | undefined;
  firstName?: string | undefined;
  lastName?: string | undefined;
  /** The platform's language code at first contact ("en-US"). */
  languageCode?: string | undefined;
}

/**
 * touch()'s two statements (node-postgres parameters): the identity with its customer's
 * language; and the first contact or a change, written and read back in one round trip. Sent
 * as plain SQL on Prisma's pool (src/infra/sql.ts): a first contact cost 852 µs of the
 * process's CPU so, 1768 µs as the same statements through Prisma's runtime and 3734 µs as
 * Prisma's upsert with the customer included (`npm run bench:queries`, 2026-12-07).
 */
export const TOUCH_SQL = {
  select: `SELECT i.id, i.platform::text AS platform, i."externalId", i."chatId", i."customerId", i."languageCode",
       i.username, i."firstName", i."lastName", i."blockedAt", i."lastSeenAt", c.language AS "customerLanguage"
FROM channel_identities i LEFT JOIN customers c ON c.id = i."customerId"
WHERE i.platform = $1::"Platform" AND i."externalId" = $2`,
  upsert: `WITH up AS (
  INSERT INTO channel_identities AS i (id, platform, "externalId", "chatId", username, "firstName", "lastName", "languageCode", "lastSeenAt", "updatedAt")
  VALUES ($1::uuid, $2::"Platform", $3, $4, $5, $6, $7, $8, $9::timestamp(3), $9::timestamp(3))
  ON CONFLICT (platform, "externalId") DO UPDATE
    SET "chatId" = EXCLUDED."chatId", username = EXCLUDED.username, "firstName" = EXCLUDED."firstName", "lastName" = EXCLUDED."lastName",
        "blockedAt" = NULL, "lastSeenAt" = EXCLUDED."lastSeenAt", "updatedAt" = EXCLUDED."updatedAt"
  RETURNING i.id, i.platform::text AS platform, i."externalId", i."chatId", i."customerId", i."languageCode",
            i.username, i."firstName", i."lastName", i."blockedAt", i."lastSeenAt"
)
SELECT up.*, c.language AS "customerLanguage" FROM up LEFT JOIN customers c ON c.id = up."customerId"`,
} as const;

interface SeenIdentityRow {
  id: string; platform: Platform; externalId: string; chatId: string; customerId: string | null; languageCode: string | null;
  username: string | null; firstName: string | null; lastName: string | null; blockedAt: Date | null; lastSeenAt: Date | null;
  customerLanguage: string | null;
}

export interface LoginResult {
  customerId: string;
  /** True when no customer had this phone and a new one was created. */
  created: boolean;
  /** The customer's language: replies use it from the login on, whatever the messenger's is. */
  language: string;
}

export interface IdentitiesDeps {
  prisma: PrismaClient;
  clock: Clock;
  /** Maps a platform language code to a supported language. */
  resolveLanguage(code: string | null | undefined): string;
  /** Delivers the shop's webhooks right after commit; without it they wait for the sweeper. */
  outbox?: OutboxDispatcher;
  /**
   * Recycled numbers: a messenger account that never logged into the customer, proving a
   * phone whose customer had no login for this many days, must confirm it is the owner.
   * 0 = off. Default DEFAULT_DORMANT_AFTER_DAYS.
   */
  dormantAfterDays?: number;
}

/** How a login proved the phone: an own Telegram contact, a one-time code, or a passed owner check. */
export type LoginMethod = 'contact' | 'code' | 'confirmed';

export const DEFAULT_DORMANT_AFTER_DAYS = 180;
/** An owner check stays open this long after the phone was proven. */
export const OWNER_CHECK_TTL_MS = 15 * 60_000;
/** Wrong answers allowed per messenger account, and per customer across accounts, in OWNER_CHECK_WINDOW_MS. */
export const OWNER_CHECK_ATTEMPTS = 3;
export const OWNER_CHECK_CUSTOMER_ATTEMPTS = 6;
export const OWNER_CHECK_WINDOW_MS = 24 * 3600_000;

const DAY_MS = 86_400_000;

/** lastSeenAt is refreshed at most this often when nothing else about the identity changed. */
export const TOUCH_INTERVAL_MS = 60_000;

export function createIdentitiesService(deps: IdentitiesDeps) {
  const { prisma, clock } = deps;
  // touch() runs on every update of someone not kept in Redis: plain SQL, not Prisma's runtime.
  const sql = sqlOf(prisma);
  const outbox = deps.outbox ?? noOutboxDispatch;
  const dormantAfterDays = deps.dormantAfterDays ?? DEFAULT_DORMANT_AFTER_DAYS;

  /** The customer's last messenger activity: the newest login, or a linked account last seen. */
  async function lastActivity(customerId: string): Promise<Date | null> {
    const [login, seen] = await Promise.all([
      prisma.customerLogin.aggregate({ where: { customerId }, _max: { createdAt: true } }),
      prisma.channelIdentity.aggregate({ where: { customerId }, _max: { lastSeenAt: true, linkedAt: true } }),
    ]);
    const times = [login._max.createdAt, seen._max.lastSeenAt, seen._max.linkedAt].filter((d): d is Date => d !== null);
    return times.length === 0 ? null : new Date(Math.max(...times.map((d) => d.getTime())));
  }

  /**
   * Holds the login back when this account is new to a customer who has been dormant: the
   * phone may have been recycled to a new holder. Opens (or keeps) an owner check and throws
   * forbidden / confirm_owner. A customer who never logged in anywhere is not held: the shop
   * vouches for that phone, and there is no earlier messenger owner to protect.
   */
  async function holdIfDormant(identityId: string, identityCustomerId: string | null, customerId: string): Promise<void> {
    if (dormantAfterDays <= 0 || identityCustomerId === customerId) return;
    const known = await prisma.customerLogin.findFirst({ where: { identityId, customerId }, select: { id: true } });
    if (known) return;
    const last = await lastActivity(customerId);
    const now = clock.now();
    if (!last || now.getTime() - last.getTime() < dormantAfterDays * DAY_MS) return;
    const expiresAt = new Date(now.getTime() + OWNER_CHECK_TTL_MS);
    const open = await prisma.loginChallenge.findUnique({ where: { identityId_customerId: { identityId, customerId } } });
    // Proving the phone again (a contact is free to share) extends the check but never
    // restores wrong answers within the window.
    const fresh = !open || now.getTime() - open.createdAt.getTime() > OWNER_CHECK_WINDOW_MS;
    await prisma.loginChallenge.upsert({
      where: { identityId_customerId: { identityId, customerId } },
      create: { identityId, customerId, expiresAt, createdAt: now },
      update: fresh ? { expiresAt, attempts: 0, passedAt: null, createdAt: now } : { expiresAt },
    });
    const facts = await prisma.customer.findUnique({ where: { id: customerId }, select: { email: true, _count: { select: { orders: true } } } });
    const answerable = !!facts?.email || (facts?._count.orders ?? 0) > 0;
    throw new DomainError('forbidden', 'This account has been dormant: the owner must confirm the login', { reason: 'confirm_owner', answerable });
  }

  /** Links the identity to the customer with this E.164 phone (creating one), recording the login. */
  async function link(identityId: string, phone: string, names: { firstName?: string | undefined; lastName?: string | undefined }, method: LoginMethod): Promise<LoginResult> {
    return transactionWithOutbox(prisma, outbox, async ({ tx, emit }) => {
      const identity = await tx.channelIdentity.findUnique({ where: { id: identityId } });
      if (!identity) throw new DomainError('not_found', 'Identity not found');
      let customer = await tx.customer.findUnique({ where: { phone }, select: { id: true, language: true } });
      let created = false;
      if (!customer) {
        customer = await tx.customer.create({
          data: {
            phone,
            firstName: names.firstName ? clip(names.firstName, 100) : null,
            lastName: names.lastName ? clip(names.lastName, 100) : null,
            language: identity.languageCode ?? deps.resolveLanguage(null),
            // No promotions until the person agrees (asked right after this login).
            marketingConsent: false,
            notifyPromotions: false,
          },
          select: { id: true, language: true },
        });
        created = true;
      }
      const now = clock.now();
      await tx.channelIdentity.update({ where: { id: identityId }, data: { customerId: customer.id, linkedAt: now } });
      await tx.customerLogin.create({ data: { identityId, customerId: customer.id, method, createdAt: now } });
      await emit('customer.linked', { customerId: customer.id, platform: identity.platform, created });
      return { customerId: customer.id, created, language: deps.resolveLanguage(customer.language) };
    });
  }

  const toDto = (row: {
    id: string; platform: Platform; externalId: string; chatId: string; customerId: string | null; languageCode: string | null;
    customer: { language: string } | null;
  }): IdentityDto => ({
    identityId: row.id,
    platform: row.platform,
    externalId: row.externalId,
    chatId: row.chatId,
    customerId: row.customerId,
    language: row.customer?.language ?? row.languageCode,
  });

  /** A row read or written by touch() (the identity with its customer's language) as the DTO. */
  const seenToDto = (row: SeenIdentityRow): IdentityDto => toDto({ ...row, customer: row.customerLanguage === null ? null : { language: row.customerLanguage } });

  return {
    /**
     * Records that a messenger user wrote: creates the identity at first contact (taking the
     * platform's language), refreshes chat id and names later, and clears a blocked flag
     * (someone who writes has unblocked the bot). Runs on every update, so it writes only
     * when something changed or lastSeenAt is older than TOUCH_INTERVAL_MS: a read otherwise.
     */
    async touch(user: SeenUser): Promise<IdentityDto> {
      const now = clock.now();
      const seen = {
        chatId: user.chatId,
        username: user.username ?? null,
        firstName: user.firstName ?? null,
        lastName: user.lastName ?? null,
      };
      // One round trip (the identity with its customer's language); include would take two.
      const [existing] = await sql.rows<SeenIdentityRow>(TOUCH_SQL.select, [user.platform, user.externalId]);
      if (
        existing &&
        existing.chatId === seen.chatId &&
        existing.username === seen.username &&
        existing.firstName === seen.firstName &&
        existing.lastName === seen.lastName &&
        existing.blockedAt === null &&
        existing.lastSeenAt !== null &&
        now.getTime() - existing.lastSeenAt.getTime() < TOUCH_INTERVAL_MS
      ) {
        return seenToDto(existing);
      }
      // First contact, or something changed: one statement (TOUCH_SQL says why plain SQL).
      const [row] = await sql.rows<SeenIdentityRow>(
        TOUCH_SQL.upsert,
        [existing?.id ?? uuidV7(now.getTime()), user.platform, user.externalId, seen.chatId, seen.username, seen.firstName, seen.lastName, deps.resolveLanguage(user.languageCode), now],
      );
      if (!row) throw new Error('identities.touch: the upsert returned no row');
      return seenToDto(row);
    },

    async get(identityId: string): Promise<IdentityDto> {
      const row = await prisma.channelIdentity.findUnique({ where: { id: identityId }, include: { customer: { select: { language: true } } } });
      if (!row) throw new DomainError('not_found', 'Identity not found');
      return toDto(row);
    },

    /**
     * Links the identity to the customer with this phone, creating the customer when the
     * shop has none. The caller must have established that the phone belongs to the person
     * behind the identity (own shared contact, verified code). The phone is read as
     * international (a Telegram contact's digits come without "+"), never as a national
     * number: "84951234567" from Telegram is Vietnam, not Moscow. A new customer takes the
     * identity's names and language; the shop hears of the link.
     *
     * Recycled numbers: when this account never logged into the customer and the customer's
     * last messenger login is older than dormantAfterDays, nothing is linked; an owner check
     * opens and forbidden / confirm_owner is thrown (`answerable`: the customer has an email
     * or an order to ask about). confirmOwner finishes the login.
     */
    async loginWithPhone(identityId: string, rawPhone: string, names: { firstName?: string | undefined; lastName?: string | undefined } = {}, method: Exclude<LoginMethod, 'confirmed'> = 'contact'): Promise<LoginResult> {
      const phone = normalizeInternationalPhone(rawPhone);
      const [identity, customer] = await Promise.all([
        prisma.channelIdentity.findUnique({ where: { id: identityId }, select: { customerId: true } }),
        prisma.customer.findUnique({ where: { phone }, select: { id: true } }),
      ]);
      if (!identity) throw new DomainError('not_found', 'Identity not found');
      if (customer) await holdIfDormant(identityId, identity.customerId, customer.id);
      return link(identityId, phone, names, method);
    },

    /**
     * The owner check of a held-back login: `answer` must be the customer's email or the
     * number of one of their orders. Only an account whose proven login was held back (an open
     * check, OWNER_CHECK_TTL_MS) may answer, OWNER_CHECK_ATTEMPTS times (and the customer
     * OWNER_CHECK_CUSTOMER_ATTEMPTS times across accounts) per day. Throws not_found
     * (no_check: none open or expired), rate_limited (too_many_attempts), invalid_input
     * (wrong_answer with attemptsLeft).
     */
    async confirmOwner(identityId: string, rawPhone: string, answer: string): Promise<LoginResult> {
      const phone = normalizeInternationalPhone(rawPhone);
      const now = clock.now();
      const customer = await prisma.customer.findUnique({ where: { phone }, select: { id: true, email: true } });
      const check = customer && (await prisma.loginChallenge.findUnique({ where: { identityId_customerId: { identityId, customerId: customer.id } } }));
      if (!customer || !check || check.passedAt || check.expiresAt <= now) throw new DomainError('not_found', 'No owner check is open', { reason: 'no_check' });
      const since = new Date(now.getTime() - OWNER_CHECK_WINDOW_MS);
      const spent = await prisma.loginChallenge.aggregate({ where: { customerId: customer.id, createdAt: { gt: since } }, _sum: { attempts: true } });
      if ((spent._sum.attempts ?? 0) >= OWNER_CHECK_CUSTOMER_ATTEMPTS) throw new DomainError('rate_limited', 'Too many answers for this account', { reason: 'too_many_attempts' });
      // Count first, atomically: parallel answers cannot exceed the limit.
      const counted = await prisma.loginChallenge.updateMany({ where: { id: check.id, passedAt: null, attempts: { lt: OWNER_CHECK_ATTEMPTS } }, data: { attempts: { increment: 1 } } });
      if (counted.count === 0) throw new DomainError('rate_limited', 'Too many answers', { reason: 'too_many_attempts' });
      const typed = answer.trim();
      const matches =
        typed.length > 0 &&
        ((!!customer.email && customer.email.trim().toLowerCase() === typed.toLowerCase()) ||
          (typed.length <= 64 && (await prisma.order.count({ where: { customerId: customer.id, number: { equals: typed, mode: 'insensitive' } } })) > 0));
      if (!matches) {
        const attemptsLeft = OWNER_CHECK_ATTEMPTS - (check.attempts + 1);
        if (attemptsLeft <= 0) throw new DomainError('rate_limited', 'Too many answers', { reason: 'too_many_attempts' });
        throw new DomainError('invalid_input', 'That is not what the account holds', { reason: 'wrong_answer', attemptsLeft });
      }
      const passed = await prisma.loginChallenge.updateMany({ where: { id: check.id, passedAt: null }, data: { passedAt: now } });
      if (passed.count === 0) throw new DomainError('not_found', 'No owner check is open', { reason: 'no_check' });
      return link(identityId, phone, {}, 'confirmed');
    },

    /** The person blocked the bot: stop writing to this account until they return. */
    async markBlocked(platform: Platform, externalId: string): Promise<void> {
      await prisma.channelIdentity.updateMany({ where: { platform, externalId }, data: { blockedAt: clock.now() } });
    },

    /** Unlinks the identity from its customer; the customer and their data stay. */
    async logout(identityId: string): Promise<void> {
      await prisma.channelIdentity.update({ where: { id: identityId }, data: { customerId: null, linkedAt: null } });
    },

    /** Remembers a language choice on the identity and, when logged in, on the customer. */
    async setLanguage(identityId: string, language: string): Promise<void> {
      const resolved = deps.resolveLanguage(language);
      if (resolved !== language) throw new DomainError('invalid_input', 'Unsupported language', { field: 'language' });
      await transactionWithOutbox(prisma, outbox, async ({ tx, emit }) => {
        const identity = await tx.channelIdentity.update({ where: { id: identityId }, data: { languageCode: language } });
        if (identity.customerId) {
          await tx.customer.update({ where: { id: identity.customerId }, data: { language } });
          await emit('customer.updated', { customerId: identity.customerId, fields: ['language'], changes: { language } });
        }
      });
    },
  };
}

export type IdentitiesService = ReturnType<typeof createIdentitiesService>;
