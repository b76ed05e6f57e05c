/**
 * Exactly-once processing of the shop's events: the ProcessedEvent row is written in the
 * same transaction as the change, so either both exist or neither. The row keeps the answer
 * given the first time, so a retry after a lost answer gets the same ids and values. A repeated
 * id with the same body is a duplicate; the same id with a different body is a conflict.
 */
import { createHash } from 'node:crypto';
import { DomainError } from '../../errors.js';
import { Prisma, type PrismaClient } from '../../generated/prisma/client.js';

export const hashBody = (raw: string | Buffer): string => createHash('sha256').update(raw).digest('hex');

export interface EventKey {
  source: string;
  eventId: string;
  requestHash: string;
}

/** A duplicate carries the first answer (null for events recorded before answers were kept). */
export type Once<T> = { duplicate: true; response: Record<string, unknown> | null } | { duplicate: false; result: T };

type Reader = Pick<PrismaClient, 'processedEvent'> | Prisma.TransactionClient;

async function checkExisting(db: Reader, key: EventKey): Promise<{ response: Record<string, unknown> | null } | null> {
  const seen = await db.processedEvent.findUnique({ where: { source_eventId: { source: key.source, eventId: key.eventId } } });
  if (!seen) return null;
  if (seen.requestHash && seen.requestHash !== key.requestHash) {
    throw new DomainError('conflict', `Event ${key.eventId} was already processed with a different body`, { field: 'eventId' });
  }
  const response = seen.response && typeof seen.response === 'object' && !Array.isArray(seen.response) ? (seen.response as Record<string, unknown>) : null;
  return { response };
}

/**
 * Races PostgreSQL resolves by refusing one side: a unique row created concurrently (first
 * sight of a customer or product), a deadlock, a serialization failure. The whole transaction
 * is run again; the second run sees the winner's committed row.
 */
export function isRetryableRace(err: unknown): boolean {
  if (err instanceof Prisma.PrismaClientKnownRequestError) return err.code === 'P2002' || err.code === 'P2034' || err.code === 'P2028';
  const text = err instanceof Error ? err.message : '';
  return /deadlock detected|could not serialize access|40P01|40001/.test(text) || isBusy(err);
}

/** The database had no connection or no time for this transaction: the caller may retry soon. */
export function isBusy(err: unknown): boolean {
  if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2028') return true;
  const text = err instanceof Error ? err.message : '';
  return /timeout exceeded when trying to connect|Unable to start a transaction|Transaction already closed|expired transaction/i.test(text);
}

/**
 * A value PostgreSQL refused although the schema let it through (a number out of a column's
 * range, a string too long for an index): the caller's input, so a 400 naming the column,
 * never a 500. Null for anything else.
 */
export function storeErrorAsDomain(err: unknown): DomainError | null {
  if (!(err instanceof Prisma.PrismaClientKnownRequestError)) {
    const text = err instanceof Error ? err.message : '';
    if (/numeric field overflow|out of range|value too long/i.test(text)) return new DomainError('invalid_input', 'A value is out of the range that can be stored');
    return null;
  }
  const column = (err.meta as { column_name?: string; target?: unknown } | undefined)?.column_name;
  if (err.code === 'P2000' || err.code === 'P2020' || err.code === 'P2033') {
    return new DomainError('invalid_input', 'A value is out of the range that can be stored', column ? { field: column } : undefined);
  }
  return null;
}

export interface ProcessOnceOptions<T> {
  timeoutMs?: number;
  /** The answer to keep for repeats of this event. */
  answer?: (result: T) => Record<string, unknown>;
  /** Runs of the transaction when it loses a race (default 4). */
  attempts?: number;
}

/** Runs `change` once per event id, in one transaction with the ProcessedEvent row. */
export async function processOnce<T>(prisma: PrismaClient, key: EventKey, change: (tx: Prisma.TransactionClient) => Promise<T>, options: ProcessOnceOptions<T> = {}): Promise<Once<T>> {
  const seen = await checkExisting(prisma, key);
  if (seen) return { duplicate: true, response: seen.response };
  const attempts = options.attempts ?? 4;
  for (let attempt = 1; ; attempt++) {
    try {
      return await prisma.$transaction(
        async (tx) => {
          // First: a concurrent twin blocks here on the primary key until the other commits.
          await tx.processedEvent.create({ data: { source: key.source, eventId: key.eventId, requestHash: key.requestHash } });
          const result = await change(tx);
          if (options.answer) {
            await tx.processedEvent.update({ where: { source_eventId: { source: key.source, eventId: key.eventId } }, data: { response: options.answer(result) as Prisma.InputJsonObject } });
          }
          return { duplicate: false as const, result };
        },
        { timeout: options.timeoutMs ?? 15_000, maxWait: 10_000 },
      );
    } catch (err) {
      // A value the column refused is the caller's input: a 400 naming it, not a 500.
      if (!isRetryableRace(err)) throw storeErrorAsDomain(err) ?? err;
      const twin = await checkExisting(prisma, key);
      if (twin) return { duplicate: true, response: twin.response };
      if (attempt >= attempts) {
        // Nothing was written (the transaction rolled back): a retry of the same event is safe.
        if (isBusy(err)) throw new DomainError('unavailable', 'Kabinet is busy; retry the request with the same eventId', { retryAfterSeconds: 2 });
        throw err;
      }
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * attempt));
    }
  }
}

/** Records a batch event after its chunks committed (each chunk is idempotent by itself). */
export async function markProcessed(prisma: PrismaClient, key: EventKey, response?: Record<string, unknown>): Promise<void> {
  await prisma.processedEvent.createMany({ data: [{ source: key.source, eventId: key.eventId, requestHash: key.requestHash, ...(response ? { response: response as Prisma.InputJsonObject } : {}) }], skipDuplicates: true });
}

export { checkExisting as isProcessed };
