/**
 * Events Kabinet owes the shop, written as OutboxEvent rows inside the same transaction as
 * the change that causes them; issue 4's outbox worker signs and delivers them. Payloads
 * carry ids and the changed values the shop needs, never more.
 */
import type { Prisma } from '../generated/prisma/client.js';

export type ShopEventType =
  | 'customer.linked'
  | 'customer.updated'
  | 'customer.address_changed'
  | 'cart.repeat_requested'
  | 'support.requested';

type Tx = Pick<Prisma.TransactionClient, 'outboxEvent'>;

export async function recordShopEvent(tx: Tx, eventType: ShopEventType, payload: Record<string, unknown>): Promise<void> {
  await tx.outboxEvent.create({ data: { eventType, payload: payload as Prisma.InputJsonValue } });
}
