/**
 * Deciding whom to tell: one Notification row per linked, unblocked messenger identity of
 * the customer, written inside the transaction of the change that causes it. The dedupKey
 * is deterministic from the cause (`order-status:<statusEventId>:<identityId>`), so a
 * replayed event or a re-run job never creates a second row, and the send job's id is the
 * row's id, so it is never queued twice either.
 */
import type { Prisma } from '../generated/prisma/client.js';
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

/** What a committed change still has to hand to the queues. */
export interface AfterCommit {
  notifications: PendingNotification[];
  outbox: string[];
}

export const emptyAfterCommit = (): AfterCommit => ({ notifications: [], outbox: [] });
