/**
 * Who a broadcast reaches. A segment is a set of conditions combined with AND; consent is
 * not one of them because it cannot be switched off: marketingConsent AND notifyPromotions
 * are always required. Each customer gets one message, on the messenger they used last
 * (among the platforms asked for); a customer whose every identity blocked the bot is
 * counted as blocked and not messaged.
 */
import { DomainError } from '../../errors.js';
import type { Platform } from '../../generated/prisma/enums.js';
import { Prisma, type PrismaClient } from '../../infra/prisma.js';
import { isUuid } from '../../lib/uuid.js';

export interface Segment {
  platforms?: Platform[];
  languages?: string[];
  tiers?: string[];
  /** At least one order placed in the last n days. */
  orderedWithinDays?: number;
  /** No order placed in the last n days (customers who never ordered included). */
  noOrdersWithinDays?: number;
  /** Has at least one of these products in the wishlist. */
  wishlistSkus?: string[];
  customerIds?: string[];
}

export const SEGMENT_KEYS = ['platforms', 'languages', 'tiers', 'orderedWithinDays', 'noOrdersWithinDays', 'wishlistSkus', 'customerIds'] as const;
const PLATFORMS: readonly Platform[] = ['telegram', 'vk'];
const MAX_LIST = 10_000;

function fail(field: string, message: string): never {
  throw new DomainError('invalid_input', `segment.${field}: ${message}`, { field: `segment.${field}` });
}

function stringList(value: unknown, field: string, check: (s: string) => boolean, what: string): string[] {
  if (!Array.isArray(value)) fail(field, 'expected an array');
  if (value.length > MAX_LIST) fail(field, `at most ${MAX_LIST} items`);
  for (const item of value) if (typeof item !== 'string' || !check(item)) fail(field, `expected ${what}`);
  return [...new Set(value as string[])];
}

function days(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 36_500) fail(field, 'expected a whole number of days from 1 to 36500');
  return value;
}

/**
 * Validates untrusted input into a Segment. Unknown keys are refused (a typo must not widen
 * a broadcast to everyone); an empty list would select nobody and is refused too.
 */
export function parseSegment(input: unknown, languages: readonly string[]): Segment {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) fail('', 'expected an object');
  const raw = input as Record<string, unknown>;
  for (const key of Object.keys(raw)) if (!(SEGMENT_KEYS as readonly string[]).includes(key)) fail(key, `unknown condition; known: ${SEGMENT_KEYS.join(', ')}`);
  const segment: Segment = {};
  const nonEmpty = (list: string[], field: string) => (list.length === 0 ? fail(field, 'an empty list selects nobody; leave the condition out instead') : list);
  if (raw.platforms !== undefined) segment.platforms = nonEmpty(stringList(raw.platforms, 'platforms', (s) => (PLATFORMS as readonly string[]).includes(s), `one of ${PLATFORMS.join(', ')}`), 'platforms') as Platform[];
  if (raw.languages !== undefined) segment.languages = nonEmpty(stringList(raw.languages, 'languages', (s) => languages.includes(s), `one of ${languages.join(', ')}`), 'languages');
  if (raw.tiers !== undefined) segment.tiers = nonEmpty(stringList(raw.tiers, 'tiers', (s) => /^[\w-]{1,64}$/.test(s), 'a tier code'), 'tiers');
  if (raw.orderedWithinDays !== undefined) segment.orderedWithinDays = days(raw.orderedWithinDays, 'orderedWithinDays');
  if (raw.noOrdersWithinDays !== undefined) segment.noOrdersWithinDays = days(raw.noOrdersWithinDays, 'noOrdersWithinDays');
  if (raw.wishlistSkus !== undefined) segment.wishlistSkus = nonEmpty(stringList(raw.wishlistSkus, 'wishlistSkus', (s) => s.length >= 1 && s.length <= 128, 'a SKU'), 'wishlistSkus');
  if (raw.customerIds !== undefined) segment.customerIds = nonEmpty(stringList(raw.customerIds, 'customerIds', isUuid, 'a customer id (uuid)'), 'customerIds');
  return segment;
}

/** One customer the segment selects, with the identity the message goes to. */
export interface Recipient {
  customerId: string;
  identityId: string;
  platform: Platform;
  chatId: string;
  /** The customer's every identity on the selected platforms blocked the bot. */
  blocked: boolean;
  language: string;
  firstName: string | null;
  points: number;
  tierCode: string | null;
}

/** The customers' WHERE clause: consent always, then each condition of the segment. */
function customerConditions(segment: Segment, now: Date): Prisma.Sql {
  const parts: Prisma.Sql[] = [Prisma.sql`c."marketingConsent" AND c."notifyPromotions"`];
  if (segment.languages) parts.push(Prisma.sql`c."language" = ANY(${segment.languages}::text[])`);
  if (segment.tiers) parts.push(Prisma.sql`c."loyaltyTierCode" = ANY(${segment.tiers}::text[])`);
  if (segment.orderedWithinDays !== undefined) {
    const since = new Date(now.getTime() - segment.orderedWithinDays * 86_400_000);
    parts.push(Prisma.sql`EXISTS (SELECT 1 FROM "orders" o WHERE o."customerId" = c."id" AND o."placedAt" >= ${since})`);
  }
  if (segment.noOrdersWithinDays !== undefined) {
    const since = new Date(now.getTime() - segment.noOrdersWithinDays * 86_400_000);
    parts.push(Prisma.sql`NOT EXISTS (SELECT 1 FROM "orders" o WHERE o."customerId" = c."id" AND o."placedAt" >= ${since})`);
  }
  if (segment.wishlistSkus) {
    parts.push(Prisma.sql`EXISTS (SELECT 1 FROM "wishlist_items" w JOIN "products" p ON p."id" = w."productId" WHERE w."customerId" = c."id" AND p."sku" = ANY(${segment.wishlistSkus}::text[]))`);
  }
  if (segment.customerIds) parts.push(Prisma.sql`c."id" = ANY(${segment.customerIds}::uuid[])`);
  return Prisma.join(parts, ' AND ');
}

/**
 * The segment as one query: one row per customer, with the identity to write to. Among the
 * customer's linked identities on the selected platforms, an unblocked one wins over a
 * blocked one, then the one seen last (lastSeenAt), then the one linked last.
 */
function recipientsSql(segment: Segment, now: Date): Prisma.Sql {
  const platforms = segment.platforms ?? PLATFORMS;
  return Prisma.sql`
    SELECT DISTINCT ON (c."id")
      c."id" AS "customerId", i."id" AS "identityId", i."platform"::text AS "platform", i."chatId" AS "chatId",
      (i."blockedAt" IS NOT NULL) AS "blocked", c."language" AS "language", c."firstName" AS "firstName",
      c."pointsBalance" AS "points", c."loyaltyTierCode" AS "tierCode"
    FROM "customers" c
    JOIN "channel_identities" i ON i."customerId" = c."id" AND i."platform"::text = ANY(${[...platforms]}::text[])
    WHERE ${customerConditions(segment, now)}
    ORDER BY c."id", (i."blockedAt" IS NOT NULL), i."lastSeenAt" DESC NULLS LAST, i."linkedAt" DESC NULLS LAST, i."id"`;
}

/** Every recipient of the segment, ordered by customer id. */
export async function selectRecipients(prisma: PrismaClient, segment: Segment, now: Date): Promise<Recipient[]> {
  return prisma.$queryRaw<Recipient[]>(recipientsSql(segment, now));
}

export interface SegmentCount {
  /** Customers who will get the message. */
  customers: number;
  /** Their linked identities on the selected platforms that did not block the bot (a customer with both messengers counts twice here, once above). */
  identities: number;
  /** Where the messages go: one per customer, on the messenger used last. */
  byPlatform: Record<Platform, number>;
  /** Customers in the segment whose every identity blocked the bot: skipped. */
  blocked: number;
}

/** How many the segment reaches, computed in the database. */
export async function countSegment(prisma: PrismaClient, segment: Segment, now: Date): Promise<SegmentCount> {
  const platforms = segment.platforms ?? PLATFORMS;
  const [row] = await prisma.$queryRaw<Array<{ customers: number; telegram: number; vk: number; blocked: number; identities: number }>>`
    WITH r AS (${recipientsSql(segment, now)})
    SELECT
      count(*) FILTER (WHERE NOT r."blocked")::int AS "customers",
      count(*) FILTER (WHERE NOT r."blocked" AND r."platform" = 'telegram')::int AS "telegram",
      count(*) FILTER (WHERE NOT r."blocked" AND r."platform" = 'vk')::int AS "vk",
      count(*) FILTER (WHERE r."blocked")::int AS "blocked",
      (SELECT count(*)::int FROM "channel_identities" i JOIN r ON r."customerId" = i."customerId"
        WHERE i."blockedAt" IS NULL AND i."platform"::text = ANY(${[...platforms]}::text[])) AS "identities"
    FROM r`;
  return {
    customers: row?.customers ?? 0,
    identities: row?.identities ?? 0,
    byPlatform: { telegram: row?.telegram ?? 0, vk: row?.vk ?? 0 },
    blocked: row?.blocked ?? 0,
  };
}
