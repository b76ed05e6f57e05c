/**
 * The one writer of the outbox. Domain modules (bot services, shop-sync) call
 * `enqueueOutbox(tx, ...)` inside the same Prisma transaction as the change that causes the
 * webhook, so the webhook exists if and only if the change does; or `transactionWithOutbox`,
 * which also hands the committed rows to the dispatcher at once. If dispatch never happens
 * (the process died between commit and dispatch, Redis was down), the periodic sweeper finds
 * the rows and delivers them anyway.
 *
 * No BullMQ here: the dispatcher is a dependency (`OutboxDispatcher`, in production the
 * Outbox of outbox.ts), so domain modules stay free of queue code.
 */
import type { Prisma } from '../generated/prisma/client.js';
import type { OutboxEventPayloads, OutboxEventType, ShopCustomerRef } from './events.js';

export type { OutboxEventPayloads, OutboxEventType, ShopCustomerRef } from './events.js';

/** Any Prisma client or transaction client that can write OutboxEvent rows (and read the customer they name). */
export interface OutboxWriter {
  outboxEvent: Pick<Prisma.TransactionClient['outboxEvent'], 'create'>;
  customer: Pick<Prisma.TransactionClient['customer'], 'findUnique'>;
}

/** Hands committed rows to delivery; `Pick<Outbox, 'dispatch'>` in production. */
export interface OutboxDispatcher {
  dispatch(ids: string[]): Promise<void>;
}

/** For callers without a queue (scripts, some tests): rows wait for the sweeper. */
export const noOutboxDispatch: OutboxDispatcher = { dispatch: async () => undefined };

/**
 * Wraps a dispatcher so a failure after the commit never fails the caller's action: the
 * change is saved and the row is durable, so the sweeper delivers it later.
 */
export function afterCommitDispatcher(dispatcher: OutboxDispatcher, onError: (err: unknown, ids: string[]) => void = () => undefined): OutboxDispatcher {
  return {
    async dispatch(ids) {
      if (ids.length === 0) return;
      try {
        await dispatcher.dispatch(ids);
      } catch (err) {
        onError(err, ids);
      }
    },
  };
}

/**
 * The shop is the system of record for its customers and knows them by its own id and the
 * phone, not by Kabinet's uuid: every payload that names a `customerId` also carries
 * `customer: { externalId, phone }` (null when `customerId` is null or names no customer),
 * read in the caller's transaction so it is the customer as of the event. Done here, once, so
 * no event type can forget it. The phone goes only into the signed webhook body; nothing in
 * the outbox logs a payload.
 */
async function withShopCustomer(tx: OutboxWriter, payload: object): Promise<object> {
  if (!('customerId' in payload)) return payload;
  const id = payload.customerId;
  const customer = typeof id === 'string' ? await tx.customer.findUnique({ where: { id }, select: { externalId: true, phone: true } }) : null;
  const ref: ShopCustomerRef | null = customer ? { externalId: customer.externalId, phone: customer.phone } : null;
  return { ...payload, customer: ref };
}

/**
 * Records a webhook to deliver to the shop; the payload is sent as `data` in the envelope
 * `{ id, type, createdAt, data }` (see README.md beside this file for every type), with the
 * shop's own customer reference added (`withShopCustomer`).
 * Returns the outbox row id (also the webhook's idempotency id for the shop).
 */
export async function enqueueOutbox<T extends OutboxEventType>(tx: OutboxWriter, eventType: T, payload: OutboxEventPayloads[T]): Promise<string> {
  const data = await withShopCustomer(tx, payload);
  const row = await tx.outboxEvent.create({ data: { eventType, payload: data as Prisma.InputJsonValue }, select: { id: true } });
  return row.id;
}

/** What `transactionWithOutbox` gives the work: the transaction and a writer bound to it. */
export interface OutboxTx {
  tx: Prisma.TransactionClient;
  emit<T extends OutboxEventType>(eventType: T, payload: OutboxEventPayloads[T]): Promise<string>;
}

interface TransactionRunner {
  $transaction<R>(fn: (tx: Prisma.TransactionClient) => Promise<R>, options?: { maxWait?: number; timeout?: number }): Promise<R>;
}

/**
 * Runs `work` in one transaction; the outbox rows it emits are dispatched right after the
 * commit (not at all when the transaction rolls back).
 */
export async function transactionWithOutbox<R>(
  prisma: TransactionRunner,
  dispatcher: OutboxDispatcher,
  work: (t: OutboxTx) => Promise<R>,
  options?: { maxWait?: number; timeout?: number },
): Promise<R> {
  const ids: string[] = [];
  const result = await prisma.$transaction(async (tx) => {
    // Reset on a retried callback so only the committed attempt's rows are dispatched.
    ids.length = 0;
    return work({
      tx,
      emit: async (eventType, payload) => {
        const id = await enqueueOutbox(tx, eventType, payload);
        ids.push(id);
        return id;
      },
    });
  }, options);
  await dispatcher.dispatch(ids);
  return result;
}
