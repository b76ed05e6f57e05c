/**
 * Deciding whom to tell: one Notification row per linked, unblocked messenger identity of
 * the customer, written inside the transaction of the change that causes it. The dedupKey
 * is deterministic from the cause (`order-status:<statusEventId>:<identityId>`), so a
 * replayed event or a re-run job never creates a second row, and the send job's id is the
 * row's id, so it is never queued twice either.
 */
import { Prisma } from '../generated/prisma/client.js';
import type { Platform } from '../generated/prisma/enums.js';

export type NotificationKind = 'order-status' | 'back-in-stock' | 'price-drop' | 'points-credited' | 'points-expiring';

/** The customer's switch that silences each kind. */
export const PREFERENCE_BY_KIND = {
  'order-status': 'notifyOrderUpdates',
  'back-in-stock': 'notifyStockAlerts',
  'price-drop': 'notifyStockAlerts',
  'points-credited': 'notifyLoyalty',
  'points-expiring': 'notifyLoyalty',
} as const satisfies Record<NotificationKind, 'notifyOrderUpdates' | 'notifyStockAlerts' | 'notifyLoyalty'>;

/** A row just written, to be queued after the commit. */
export interface PendingNotification {
  id: string;
  platform: Platform;
}

export interface NotifySpec {
  customerId: string;
  kind: NotificationKind;
  /** The id of what happened (status event id, product alert id + price, ledger row id). */
  cause: string;
  /** Ids and values the renderer needs; no personal data. */
  payload: Prisma.InputJsonObject;
}

type Tx = Pick<Prisma.TransactionClient, 'customer' | 'notification'>;

export const dedupKey = (kind: NotificationKind, cause: string, identityId: string): string => `${kind}:${cause}:${identityId}`;

/**
 * Writes the rows for every identity that should hear about it. Returns only rows created
 * now (a repeat of the same cause returns none). Respects the customer's preference and
 * skips identities that blocked the bot.
 */
export async function notifyCustomer(tx: Tx, spec: NotifySpec): Promise<PendingNotification[]> {
  const preference = PREFERENCE_BY_KIND[spec.kind];
  const customer = await tx.customer.findUnique({
    where: { id: spec.customerId },
    select: {
      notifyOrderUpdates: true,
      notifyStockAlerts: true,
      notifyLoyalty: true,
      identities: { where: { blockedAt: null }, select: { id: true, platform: true } },
    },
  });
  if (!customer || !customer[preference] || customer.identities.length === 0) return [];
  const created = await tx.notification.createManyAndReturn({
    data: customer.identities.map((identity) => ({
      dedupKey: dedupKey(spec.kind, spec.cause, identity.id),
      kind: spec.kind,
      customerId: spec.customerId,
      identityId: identity.id,
      payload: spec.payload,
    })),
    skipDuplicates: true,
    select: { id: true, identityId: true },
  });
  const platformOf = new Map(customer.identities.map((i) => [i.id, i.platform]));
  return created.map((row) => ({ id: row.id, platform: platformOf.get(row.identityId)! }));
}

/**
 * A new row id in SQL, as Prisma's `uuid(7)` makes them: 48 bits of Unix milliseconds, then
 * random bits (gen_random_uuid, PostgreSQL 13+) with the version set to 7.
 */
export const UUID_V7_SQL = Prisma.raw(
  `encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing substring(int8send((extract(epoch from clock_timestamp()) * 1000)::bigint) from 3) from 1 for 6), 52, 1), 53, 1), 'hex')::uuid`,
);

/**
 * The rows `notifyCustomer` writes, as one INSERT to use as a data-modifying CTE in the statement
 * that records the cause (so the cause and its notifications are one round trip). The same
 * rules: the customer's switch for the kind, every linked identity that has not blocked the
 * bot, the deterministic dedupKey (a repeat writes nothing). `customerId`, `cause` and `payload`
 * are SQL expressions (they may read the statement's other CTEs); `when` gates the whole insert.
 * RETURNING `id`, `"identityId"`: join channel_identities for the platform.
 */
export function notifyCustomerSql(spec: { kind: NotificationKind; customerId: Prisma.Sql; cause: Prisma.Sql; payload: Prisma.Sql; when: Prisma.Sql; now: Date }): Prisma.Sql {
  const preference = Prisma.raw(`c."${PREFERENCE_BY_KIND[spec.kind]}"`);
  return Prisma.sql`INSERT INTO notifications (id, "dedupKey", kind, "customerId", "identityId", payload, "createdAt", "updatedAt")
    SELECT ${UUID_V7_SQL}, ${spec.kind}::text || ':' || (${spec.cause}) || ':' || i.id::text, ${spec.kind}, c.id, i.id, ${spec.payload}, ${spec.now}, ${spec.now}
    FROM customers c JOIN channel_identities i ON i."customerId" = c.id AND i."blockedAt" IS NULL
    WHERE c.id = (${spec.customerId}) AND ${preference} AND (${spec.when})
    ON CONFLICT ("dedupKey") DO NOTHING
    RETURNING id, "identityId"`;
}

/** What a committed change still has to hand to the queues. */
export interface AfterCommit {
  notifications: PendingNotification[];
  outbox: string[];
}

export const emptyAfterCommit = (): AfterCommit => ({ notifications: [], outbox: [] });
