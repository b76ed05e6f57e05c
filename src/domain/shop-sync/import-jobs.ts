/**
 * Asynchronous batch imports (`?async=true`): the API validates the items, stores the valid
 * ones with the refused ones' errors in an ImportJob row (in the event's transaction) and
 * answers 202 at once; a worker runs the import in chunks, writing progress after each, and
 * clears the items when done. A run that dies is run again from the start: every item write
 * is an idempotent upsert. GET /api/v1/jobs/{id} reads the row.
 */
import type { Prisma, PrismaClient } from '../../generated/prisma/client.js';
import type { Clock } from '../../infra/clock.js';
import type { AfterWrite, ShopSync } from './shop-sync.js';
import type { BatchReport, CustomerInput, ItemError, OrderInput, ProductInput } from './types.js';

export type ImportKind = 'products' | 'orders' | 'customers';

export interface ImportRequest {
  kind: ImportKind;
  eventId: string;
  received: number;
  /** Items that passed validation, with their index in the request. */
  items: Array<{ index: number; item: unknown }>;
  /** Items refused before the import (validation, repeats within the batch). */
  errors: ItemError[];
}

export interface ImportJobView {
  id: string;
  kind: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  received: number;
  processed: number;
  created: number;
  updated: number;
  failed: number;
  errors: ItemError[];
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export type ImportJobs = ReturnType<typeof createImportJobs>;

export function createImportJobs(deps: { prisma: PrismaClient; sync: ShopSync; clock: Clock }) {
  const { prisma, sync, clock } = deps;

  function run(kind: ImportKind, items: Array<{ index: number; item: unknown }>, eventId: string, report: BatchReport, progress: (done: number, r: BatchReport) => Promise<void>): Promise<AfterWrite> {
    if (kind === 'products') return sync.importProducts(items as Array<{ index: number; item: ProductInput }>, { eventId, notify: true }, report, progress);
    if (kind === 'orders') return sync.importOrders(items as Array<{ index: number; item: OrderInput }>, { eventId, notify: false }, report, progress);
    return sync.importCustomers(items as Array<{ index: number; item: CustomerInput }>, report, progress);
  }

  const sorted = (errors: ItemError[]) => [...errors].sort((a, b) => a.index - b.index);

  return {
    /** Inside the event's transaction: the job exists if and only if the event was accepted. */
    async create(tx: Prisma.TransactionClient, request: ImportRequest): Promise<string> {
      const row = await tx.importJob.create({
        data: {
          kind: request.kind,
          eventId: request.eventId,
          received: request.received,
          items: request.items as unknown as Prisma.InputJsonArray,
          errors: sorted(request.errors) as unknown as Prisma.InputJsonArray,
          failed: request.errors.length,
          processed: request.errors.length,
        },
        select: { id: true },
      });
      return row.id;
    },

    /** Runs a job to the end. `after` queues what each run committed (notifications, fan-outs). */
    async run(id: string, after: (a: AfterWrite) => Promise<void>): Promise<ImportJobView['status'] | 'skipped'> {
      const job = await prisma.importJob.findUnique({ where: { id } });
      if (!job || job.status === 'done' || job.status === 'failed' || !Array.isArray(job.items)) return 'skipped';
      const preErrors = (job.errors as unknown as ItemError[]).filter((e) => e.index >= 0);
      // A re-run starts over: the refused-before-import errors stay, the rest are recomputed.
      const items = job.items as unknown as Array<{ index: number; item: unknown }>;
      const validIndexes = new Set(items.map((i) => i.index));
      const kept = preErrors.filter((e) => !validIndexes.has(e.index));
      await prisma.importJob.update({ where: { id }, data: { status: 'running', startedAt: clock.now(), processed: kept.length, created: 0, updated: 0, failed: kept.length, errors: sorted(kept) as unknown as Prisma.InputJsonArray } });
      const report: BatchReport = { received: job.received, created: 0, updated: 0, unchanged: 0, failed: 0, errors: [] };
      const progress = async (done: number, r: BatchReport) => {
        const errors = sorted([...kept, ...r.errors]);
        await prisma.importJob.update({ where: { id }, data: { processed: kept.length + done, created: r.created, updated: r.updated, failed: errors.length, errors: errors as unknown as Prisma.InputJsonArray } });
      };
      const afterWrite = await run(job.kind as ImportKind, items, job.eventId, report, progress);
      await after(afterWrite);
      const errors = sorted([...kept, ...report.errors]);
      await prisma.importJob.update({
        where: { id },
        data: { status: 'done', processed: job.received, created: report.created, updated: report.updated, failed: errors.length, errors: errors as unknown as Prisma.InputJsonArray, finishedAt: clock.now() },
      });
      await prisma.$executeRaw`UPDATE import_jobs SET items = NULL WHERE id = ${id}::uuid`;
      return 'done';
    },

    /** Marks a job failed for good (its worker gave up), with the reason. */
    async fail(id: string, reason: string): Promise<void> {
      await prisma.importJob.updateMany({ where: { id, status: { in: ['queued', 'running'] } }, data: { status: 'failed', error: reason.slice(0, 500), finishedAt: clock.now() } });
      await prisma.$executeRaw`UPDATE import_jobs SET items = NULL WHERE id = ${id}::uuid AND status = 'failed'`;
    },

    async get(id: string): Promise<ImportJobView | null> {
      const job = await prisma.importJob.findUnique({ where: { id }, omit: { items: true } });
      if (!job) return null;
      return {
        id: job.id,
        kind: job.kind,
        status: job.status,
        received: job.received,
        processed: job.processed,
        created: job.created,
        updated: job.updated,
        failed: job.failed,
        errors: job.errors as unknown as ItemError[],
        error: job.error,
        createdAt: job.createdAt.toISOString(),
        startedAt: job.startedAt?.toISOString() ?? null,
        finishedAt: job.finishedAt?.toISOString() ?? null,
      };
    },

    /** Jobs queued or running for longer than `olderThan` allows: for the sweeper. */
    async stuck(olderThan: Date, limit = 50): Promise<string[]> {
      const rows = await prisma.importJob.findMany({ where: { status: { in: ['queued', 'running'] }, updatedAt: { lt: olderThan } }, select: { id: true }, take: limit, orderBy: { createdAt: 'asc' } });
      return rows.map((r) => r.id);
    },
  };
}
