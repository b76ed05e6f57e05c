/**
 * Exactly-once processing of the shop's events: the ProcessedEvent row is written in the
 * same transaction as the change, so either both exist or neither. The row keeps the answer
 * given the first time, so a retry after a lost answer gets the same ids and values. A repeated
 * id with the same body is a duplicate; the same id with a different body is a conflict.
 */
import { hash } from 'node:crypto';
import { DomainError } from '../../errors.js';
import { Prisma, type PrismaClient } from '../../generated/prisma/client.js';

export const hashBody = (raw: string | Buffer): string => hash('sha256', raw, 'hex');

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
  // A raw statement's refusal carries PostgreSQL's SQLSTATE: class 22 is a data exception (too long, out of range).
  const raw = err.meta as { code?: unknown; driverAdapterError?: { cause?: { code?: unknown } } } | undefined;
  const sqlState = err.code === 'P2010' ? String(raw?.code ?? raw?.driverAdapterError?.cause?.code ?? '') : '';
  if (err.code === 'P2000' || err.code === 'P2020' || err.code === 'P2033' || sqlState.startsWith('22')) {
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
  /**
   * The change claims the event itself, in its first statement (`claimEventSql`, then
   * `alreadyClaimed()` when it returned no row), and stores its answer in the same statement
   * as its writes (`answerEventSql`): two round trips fewer on a hot route.
   */
  claimedByChange?: boolean;
}

/** Thrown inside the transaction when the event was already recorded: rolls it back, then the first answer is read. */
class AlreadyClaimed extends Error {}

/** For a change that claims its event itself (`claimedByChange`): the claim found the event recorded. */
export function alreadyClaimed(): never {
  throw new AlreadyClaimed('event already processed');
}

/**
 * Records the event (a CTE or statement returning one row when this transaction recorded it, none
 * when it was recorded before). A concurrent twin blocks on the primary key until the other
 * commits, then finds it recorded. `onlyWith`: a CTE of the same statement the claim waits for
 * and needs a row of (e.g. the locked order), so locks are taken in one order everywhere.
 */
export const claimEventSql = (key: EventKey, onlyWith?: Prisma.Sql): Prisma.Sql =>
  Prisma.sql`INSERT INTO processed_events (source, "eventId", "requestHash") SELECT ${key.source}, ${key.eventId}, ${key.requestHash}${onlyWith ? Prisma.sql` FROM ${onlyWith}` : Prisma.empty} ON CONFLICT DO NOTHING RETURNING 1 AS claimed`;

/** Stores the answer repeats of the event get (a data-modifying CTE of the change's last statement). */
export const answerEventSql = (key: EventKey, answer: Prisma.Sql): Prisma.Sql =>
  Prisma.sql`UPDATE processed_events SET response = ${answer} WHERE source = ${key.source} AND "eventId" = ${key.eventId}`;

/**
 * Runs `change` once per event id, in one transaction with the ProcessedEvent row. The row is
 * written first (a twin waits there, then is answered as a repeat); a repeat is found by that
 * same statement, so a new event costs no read before its transaction.
 */
export async function processOnce<T>(prisma: PrismaClient, key: EventKey, change: (tx: Prisma.TransactionClient) => Promise<T>, options: ProcessOnceOptions<T> = {}): Promise<Once<T>> {
  const attempts = options.attempts ?? 4;
  for (let attempt = 1; ; attempt++) {
    try {
      return await prisma.$transaction(
        async (tx) => {
          if (!options.claimedByChange && (await tx.$executeRaw(claimEventSql(key))) === 0) alreadyClaimed();
          const result = await change(tx);
          if (options.answer && !options.claimedByChange) {
            await tx.$executeRaw(answerEventSql(key, Prisma.sql`${JSON.stringify(options.answer(result))}::jsonb`));
          }
          return { duplicate: false as const, result };
        },
        { timeout: options.timeoutMs ?? 15_000, maxWait: 10_000 },
      );
    } catch (err) {
      const seen = err instanceof AlreadyClaimed;
      // A value the column refused is the caller's input: a 400 naming it, not a 500.
      if (!seen && !isRetryableRace(err)) throw storeErrorAsDomain(err) ?? err;
      const twin = await checkExisting(prisma, key);
      if (twin) return { duplicate: true, response: twin.response };
      if (attempt >= attempts) {
        // Nothing was written (the transaction rolled back): a retry of the same event is safe.
        if (seen || isBusy(err)) throw new DomainError('unavailable', 'Kabinet is busy; retry the request with the same eventId', { retryAfterSeconds: 2 });
        throw err;
      }
      // Recorded by a twin that then rolled back, or a lost race: run again.
      if (!seen) await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * attempt));
    }
  }
}

/** Records a batch event after its chunks committed (each chunk is idempotent by itself). */
export async function markProcessed(prisma: PrismaClient, key: EventKey, response?: Record<string, unknown>): Promise<void> {
  await prisma.processedEvent.createMany({ data: [{ source: key.source, eventId: key.eventId, requestHash: key.requestHash, ...(response ? { response: response as Prisma.InputJsonObject } : {}) }], skipDuplicates: true });
}

export { checkExisting as isProcessed };
