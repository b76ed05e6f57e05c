/**
 * Exactly-once processing of the shop's events: the ProcessedEvent row is written in the
 * same transaction as the change, so either both exist or neither. A repeated id with the
 * same body answers as a duplicate; the same id with a different body is a conflict.
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

export type Once<T> = { duplicate: true } | { duplicate: false; result: T };

async function checkExisting(db: Pick<PrismaClient, 'processedEvent'> | Prisma.TransactionClient, key: EventKey): Promise<boolean> {
  const seen = await db.processedEvent.findUnique({ where: { source_eventId: { source: key.source, eventId: key.eventId } } });
  if (!seen) return false;
  if (seen.requestHash && seen.requestHash !== key.requestHash) {
    throw new DomainError('conflict', `Event ${key.eventId} was already processed with a different body`, { field: 'eventId' });
  }
  return true;
}

/** Runs `change` once per event id, in one transaction with the ProcessedEvent row. */
export async function processOnce<T>(prisma: PrismaClient, key: EventKey, change: (tx: Prisma.TransactionClient) => Promise<T>, options: { timeoutMs?: number } = {}): Promise<Once<T>> {
  if (await checkExisting(prisma, key)) return { duplicate: true };
  try {
    return await prisma.$transaction(
      async (tx) => {
        // First: a concurrent twin blocks here on the primary key until the other commits.
        await tx.processedEvent.create({ data: { source: key.source, eventId: key.eventId, requestHash: key.requestHash } });
        return { duplicate: false as const, result: await change(tx) };
      },
      { timeout: options.timeoutMs ?? 15_000, maxWait: 10_000 },
    );
  } catch (err) {
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002' && (await checkExisting(prisma, key))) return { duplicate: true };
    throw err;
  }
}

/** Records a batch event after its chunks committed (each chunk is idempotent by itself). */
export async function markProcessed(prisma: PrismaClient, key: EventKey): Promise<void> {
  await prisma.processedEvent.createMany({ data: [{ source: key.source, eventId: key.eventId, requestHash: key.requestHash }], skipDuplicates: true });
}

export { checkExisting as isProcessed };
