/**
 * Writing to the outbox: call `enqueueOutbox(tx, ...)` inside the same Prisma transaction as
 * the change that causes the webhook, so the webhook exists if and only if the change does.
 * After the commit, `outbox.dispatch(ids)` (see outbox.ts) hands the rows to the delivery
 * queue at once; if that never happens (the process died between commit and dispatch), the
 * periodic sweeper finds the rows and delivers them anyway.
 */
import type { Prisma } from '../generated/prisma/client.js';

/** Webhook event types Kabinet sends to the shop. The shop dispatches on `type`. */
export type OutboxEventType =
  | 'repeat_order.requested'
  | 'customer.updated'
  | 'customer.address_changed'
  | 'customer.consent_changed'
  | 'support.requested'
  | 'review.created'
  | (string & {});

/** Any Prisma client or transaction client that can write OutboxEvent rows. */
export interface OutboxWriter {
  outboxEvent: Pick<Prisma.TransactionClient['outboxEvent'], 'create'>;
}

/**
 * Records a webhook to deliver to the shop. `payload` must be JSON (ids and the data the shop
 * needs); it is sent as `data` in the envelope `{ id, type, createdAt, data }`.
 * Returns the outbox row id (also the webhook's idempotency id for the shop).
 */
export async function enqueueOutbox(tx: OutboxWriter, eventType: OutboxEventType, payload: Prisma.InputJsonValue): Promise<string> {
  const row = await tx.outboxEvent.create({ data: { eventType, payload }, select: { id: true } });
  return row.id;
}
