/**
 * Messenger accounts (ChannelIdentity) and logging in: an identity exists from the first
 * update, and is linked to a customer by a phone the messenger vouched for (a shared own
 * contact in Telegram, a verified code elsewhere).
 */
import { DomainError } from '../../errors.js';
import type { Clock } from '../../infra/clock.js';
import type { PrismaClient } from '../../infra/prisma.js';
import type { Platform } from '../../generated/prisma/enums.js';
import { noOutboxDispatch, transactionWithOutbox, type OutboxDispatcher } from '../../outbox/enqueue.js';
import { normalizePhone } from './phone.js';

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
}

/** lastSeenAt is refreshed at most this often when nothing else about the identity changed. */
export const TOUCH_INTERVAL_MS = 60_000;

export function createIdentitiesService(deps: IdentitiesDeps) {
  const { prisma, clock } = deps;
  const outbox = deps.outbox ?? noOutboxDispatch;

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

  return {
    /**
     * Records that a messenger user wrote: creates the identity at first contact (taking the
     * platform's language), refreshes chat id and names later, and clears a blocked flag
     * (someone who writes has unblocked the bot). Runs on every update, so it writes only
     * when something changed or lastSeenAt is older than TOUCH_INTERVAL_MS: a read otherwise.
     */
    async touch(user: SeenUser): Promise<IdentityDto> {
      const now = clock.now();
      const where = { platform_externalId: { platform: user.platform, externalId: user.externalId } };
      const include = { customer: { select: { language: true } } } as const;
      const seen = {
        chatId: user.chatId,
        username: user.username ?? null,
        firstName: user.firstName ?? null,
        lastName: user.lastName ?? null,
      };
      // One round trip (the identity with its customer's language); include would take two.
      const [existing] = await prisma.$queryRaw<SeenIdentityRow[]>`
        SELECT i.id, i.platform::text AS platform, i."externalId", i."chatId", i."customerId", i."languageCode",
               i.username, i."firstName", i."lastName", i."blockedAt", i."lastSeenAt", c.language AS "customerLanguage"
        FROM channel_identities i LEFT JOIN customers c ON c.id = i."customerId"
        WHERE i.platform = ${user.platform}::"Platform" AND i."externalId" = ${user.externalId}`;
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
        return toDto({ ...existing, customer: existing.customerLanguage === null ? null : { language: existing.customerLanguage } });
      }
      const row = existing
        ? await prisma.channelIdentity.update({ where: { id: existing.id }, data: { ...seen, blockedAt: null, lastSeenAt: now }, include })
        : await prisma.channelIdentity.upsert({
            where,
            create: { platform: user.platform, externalId: user.externalId, ...seen, languageCode: deps.resolveLanguage(user.languageCode), lastSeenAt: now },
            update: { ...seen, blockedAt: null, lastSeenAt: now },
            include,
          });
      return toDto(row);
    },

    async get(identityId: string): Promise<IdentityDto> {
      const row = await prisma.channelIdentity.findUnique({ where: { id: identityId }, include: { customer: { select: { language: true } } } });
      if (!row) throw new DomainError('not_found', 'Identity not found');
      return toDto(row);
    },

    /**
     * Links the identity to the customer with this phone, creating the customer when the
     * shop has none. The caller must have established that the phone belongs to the person
     * behind the identity (own shared contact, verified code). A new customer takes the
     * identity's names and language; the shop hears of the link.
     */
    async loginWithPhone(identityId: string, rawPhone: string, names: { firstName?: string | undefined; lastName?: string | undefined } = {}): Promise<LoginResult> {
      const phone = normalizePhone(rawPhone);
      return transactionWithOutbox(prisma, outbox, async ({ tx, emit }) => {
        const identity = await tx.channelIdentity.findUnique({ where: { id: identityId } });
        if (!identity) throw new DomainError('not_found', 'Identity not found');
        let customer = await tx.customer.findUnique({ where: { phone }, select: { id: true, language: true } });
        let created = false;
        if (!customer) {
          customer = await tx.customer.create({
            data: {
              phone,
              firstName: names.firstName?.slice(0, 100) || null,
              lastName: names.lastName?.slice(0, 100) || null,
              language: identity.languageCode ?? deps.resolveLanguage(null),
              // No promotions until the person agrees (asked right after this login).
              marketingConsent: false,
              notifyPromotions: false,
            },
            select: { id: true, language: true },
          });
          created = true;
        }
        await tx.channelIdentity.update({ where: { id: identityId }, data: { customerId: customer.id, linkedAt: clock.now() } });
        await emit('customer.linked', { customerId: customer.id, platform: identity.platform, created });
        return { customerId: customer.id, created, language: deps.resolveLanguage(customer.language) };
      });
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
