/**
 * Broadcasts: a draft (content + segment), started now or at a time, paused, resumed or
 * cancelled; one BroadcastDelivery row per recipient, written in the same transaction that
 * moves the broadcast to `sending`, before anything is sent. The send side (src/broadcasts)
 * works from those rows only.
 *
 * States: draft → (start) → scheduled → sending ⇄ paused → sent; draft, scheduled, sending
 * and paused can be cancelled. Every transition is a conditional update, so two admins (or
 * two processes) racing on one broadcast get one winner and a clear conflict.
 */
import { createHash } from 'node:crypto';
import { DomainError } from '../../errors.js';
import type { Broadcast, BroadcastStatus, RecipientStatus } from '../../generated/prisma/client.js';
import type { Platform } from '../../generated/prisma/enums.js';
import type { Clock } from '../../infra/clock.js';
import type { PrismaClient } from '../../infra/prisma.js';
import { parseContent, renderMessage, type BroadcastContent, type PlaceholderValues, type RenderedMessage } from './content.js';
import { countSegment, parseSegment, selectRecipients, type Recipient, type Segment, type SegmentCount } from './segment.js';

/** VK messages.send takes up to 100 peers. */
export const VK_CHUNK_SIZE = 100;

export interface BroadcastsDeps {
  prisma: PrismaClient;
  clock: Clock;
  languages: readonly string[];
  defaultLanguage: string;
  /** Placeholder values for one recipient, in their language (see src/broadcasts/render.ts). */
  placeholders(recipient: PlaceholderSubject): Promise<PlaceholderValues> | PlaceholderValues;
  /** Told after a broadcast starts sending (wakes the pump); optional. */
  onStarted?(id: string): void | Promise<void>;
}

export interface PlaceholderSubject {
  language: string;
  firstName: string | null;
  points: number;
  tierCode: string | null;
}

export interface CreateBroadcastInput {
  title: unknown;
  text: unknown;
  imageUrl?: unknown;
  buttons?: unknown;
  segment: unknown;
  scheduledAt?: unknown;
  createdById?: string | null;
}

export interface BroadcastFigures {
  id: string;
  title: string;
  status: BroadcastStatus;
  scheduledAt: string | null;
  total: number;
  pending: number;
  sent: number;
  failed: number;
  blocked: number;
  skipped: number;
  startedAt: string | null;
  finishedAt: string | null;
  createdAt: string;
}

const ACTIVE: BroadcastStatus[] = ['sending', 'paused'];

/** A 31-bit positive random_id for VK, the same for every send of one chunk of one broadcast. */
export function vkRandomId(broadcastId: string, chunk: number): number {
  const n = createHash('sha256').update(`${broadcastId}:${chunk}`).digest().readUInt32BE(0) & 0x7fffffff;
  return n === 0 ? 1 : n;
}

/** Identical rendered messages share a key (and so a VK chunk). */
export function messageKey(m: RenderedMessage): string {
  return createHash('sha256').update(JSON.stringify([m.text, m.imageUrl, m.buttons])).digest('hex');
}

export function createBroadcastsService(deps: BroadcastsDeps) {
  const { prisma, clock } = deps;

  const segmentOf = (input: unknown) => parseSegment(input, deps.languages);

  function contentOf(b: Pick<Broadcast, 'text' | 'imageUrl' | 'buttons'>): BroadcastContent {
    return { text: b.text as Record<string, string>, imageUrl: b.imageUrl, buttons: (b.buttons as BroadcastContent['buttons']) ?? null };
  }

  async function get(id: string): Promise<Broadcast> {
    const b = await prisma.broadcast.findUnique({ where: { id } });
    if (!b) throw new DomainError('not_found', 'No broadcast with this id');
    return b;
  }

  async function figures(b: Broadcast): Promise<BroadcastFigures> {
    const groups = await prisma.broadcastDelivery.groupBy({ by: ['status'], where: { broadcastId: b.id }, _count: { _all: true } });
    const by = (s: RecipientStatus) => groups.find((g) => g.status === s)?._count._all ?? 0;
    const counts = { pending: by('pending'), sent: by('sent'), failed: by('failed'), blocked: by('blocked'), skipped: by('skipped') };
    return {
      id: b.id,
      title: b.title,
      status: b.status,
      scheduledAt: b.scheduledAt?.toISOString() ?? null,
      total: counts.pending + counts.sent + counts.failed + counts.blocked + counts.skipped,
      ...counts,
      startedAt: b.startedAt?.toISOString() ?? null,
      finishedAt: b.finishedAt?.toISOString() ?? null,
      createdAt: b.createdAt.toISOString(),
    };
  }

  /** Moves `id` from one of `from` to `to`; conflict (naming the current status) if it is elsewhere. */
  async function transition(id: string, from: BroadcastStatus[], to: BroadcastStatus, extra: Record<string, unknown> = {}): Promise<void> {
    const moved = await prisma.broadcast.updateMany({ where: { id, status: { in: from } }, data: { status: to, ...extra } });
    if (moved.count === 0) {
      const b = await get(id);
      throw new DomainError('conflict', `The broadcast is ${b.status}; this needs it ${from.join(' or ')}`, { status: b.status });
    }
  }

  /**
   * Writes one delivery row per recipient and moves the broadcast to sending, in one
   * transaction. VK recipients whose rendered message is identical are grouped into chunks
   * of up to 100 (one messages.send each).
   */
  async function materialize(id: string, from: BroadcastStatus[]): Promise<number> {
    return prisma.$transaction(async (tx) => {
      const now = clock.now();
      const moved = await tx.broadcast.updateMany({ where: { id, status: { in: from } }, data: { status: 'sending', startedAt: now } });
      if (moved.count === 0) return -1;
      const b = await tx.broadcast.findUniqueOrThrow({ where: { id } });
      const recipients = await selectRecipients(tx as unknown as PrismaClient, b.segment as Segment, now);
      const content = contentOf(b);
      const chunks = new Map<string, { chunk: number; size: number }>();
      let nextChunk = 0;
      const rows: Array<{ broadcastId: string; customerId: string; identityId: string; platform: Platform; chunk: number | null; status: RecipientStatus; error: string | null }> = [];
      for (const r of recipients) {
        if (r.blocked) {
          rows.push({ broadcastId: id, customerId: r.customerId, identityId: r.identityId, platform: r.platform, chunk: null, status: 'blocked', error: 'blocked the bot before the broadcast' });
          continue;
        }
        let chunk: number | null = null;
        if (r.platform === 'vk') {
          const key = messageKey(renderMessage(content, r.language, deps.defaultLanguage, await deps.placeholders(r)));
          let current = chunks.get(key);
          if (!current || current.size >= VK_CHUNK_SIZE) {
            current = { chunk: nextChunk++, size: 0 };
            chunks.set(key, current);
          }
          current.size += 1;
          chunk = current.chunk;
        }
        rows.push({ broadcastId: id, customerId: r.customerId, identityId: r.identityId, platform: r.platform, chunk, status: 'pending', error: null });
      }
      for (let i = 0; i < rows.length; i += 5000) await tx.broadcastDelivery.createMany({ data: rows.slice(i, i + 5000), skipDuplicates: true });
      return rows.length;
    }, { timeout: 120_000 });
  }

  async function afterStart(id: string): Promise<void> {
    try {
      await deps.onStarted?.(id);
    } catch {
      // The pump's own timer picks it up anyway.
    }
  }

  return {
    segmentOf,
    contentOf,

    /** Validates and stores a draft; answers how many customers the segment reaches now. */
    async create(input: CreateBroadcastInput): Promise<{ id: string; status: 'draft'; recipients: number }> {
      if (typeof input.title !== 'string' || input.title.trim() === '' || input.title.length > 200) {
        throw new DomainError('invalid_input', 'title: expected 1 to 200 characters', { field: 'title' });
      }
      const content = parseContent({ text: input.text, imageUrl: input.imageUrl, buttons: input.buttons }, deps.languages, deps.defaultLanguage);
      const segment = segmentOf(input.segment);
      let scheduledAt: Date | null = null;
      if (input.scheduledAt !== undefined && input.scheduledAt !== null) {
        const d = typeof input.scheduledAt === 'string' ? new Date(input.scheduledAt) : undefined;
        if (!d || Number.isNaN(d.getTime()) || !/^\d{4}-\d\d-\d\dT/.test(input.scheduledAt as string)) {
          throw new DomainError('invalid_input', 'scheduledAt: expected an ISO 8601 date-time', { field: 'scheduledAt' });
        }
        scheduledAt = d;
      }
      const count = await countSegment(prisma, segment, clock.now());
      const b = await prisma.broadcast.create({
        data: {
          title: input.title.trim(),
          text: content.text,
          imageUrl: content.imageUrl ?? null,
          ...(content.buttons ? { buttons: content.buttons as unknown as object[] } : {}),
          segment: segment as object,
          scheduledAt,
          createdById: input.createdById ?? null,
        },
      });
      return { id: b.id, status: 'draft', recipients: count.customers };
    },

    async count(segmentInput: unknown): Promise<SegmentCount> {
      return countSegment(prisma, segmentOf(segmentInput), clock.now());
    },

    /**
     * Confirms a draft: sends now, or at scheduledAt when that is still ahead (the pump
     * starts it then, restarts included).
     */
    async start(id: string): Promise<BroadcastFigures> {
      const b = await get(id);
      if (b.status === 'draft' && b.scheduledAt && b.scheduledAt > clock.now()) {
        await transition(id, ['draft'], 'scheduled');
        return figures(await get(id));
      }
      const written = await materialize(id, ['draft']);
      if (written < 0) await transition(id, ['draft'], 'sending'); // throws the conflict
      await afterStart(id);
      return figures(await get(id));
    },

    /** Starts scheduled broadcasts whose time has come; returns their ids. */
    async startDue(): Promise<string[]> {
      const due = await prisma.broadcast.findMany({ where: { status: 'scheduled', scheduledAt: { lte: clock.now() } }, select: { id: true }, orderBy: { scheduledAt: 'asc' }, take: 20 });
      const started: string[] = [];
      for (const { id } of due) if ((await materialize(id, ['scheduled'])) >= 0) started.push(id);
      return started;
    },

    async pause(id: string): Promise<BroadcastFigures> {
      await transition(id, ['sending'], 'paused');
      return figures(await get(id));
    },

    async resume(id: string): Promise<BroadcastFigures> {
      await transition(id, ['paused'], 'sending');
      await afterStart(id);
      return figures(await get(id));
    },

    /**
     * Stops for good: rows not yet handed to the platform become skipped ("cancelled"); a
     * send already on the wire finishes and is recorded as what it was.
     */
    async cancel(id: string): Promise<BroadcastFigures> {
      await transition(id, ['draft', 'scheduled', 'sending', 'paused'], 'cancelled', { finishedAt: clock.now() });
      // A send claimed in the last minute may still be on the wire: it settles itself. An older
      // claim belongs to a worker that died; nobody will send it now.
      const recent = new Date(clock.now().getTime() - 60_000);
      await prisma.broadcastDelivery.updateMany({
        where: { broadcastId: id, status: 'pending', OR: [{ sendingAt: null }, { sendingAt: { lt: recent } }] },
        data: { status: 'skipped', error: 'cancelled', enqueuedAt: null, sendingAt: null },
      });
      return figures(await get(id));
    },

    /** Marks a sending broadcast sent when no row is pending any more. */
    async finishIfDone(id: string): Promise<boolean> {
      const pending = await prisma.broadcastDelivery.count({ where: { broadcastId: id, status: 'pending' } });
      if (pending > 0) return false;
      const moved = await prisma.broadcast.updateMany({ where: { id, status: 'sending' }, data: { status: 'sent', finishedAt: clock.now() } });
      return moved.count > 0;
    },

    async status(id: string): Promise<BroadcastFigures> {
      return figures(await get(id));
    },

    async list(limit = 50): Promise<BroadcastFigures[]> {
      const rows = await prisma.broadcast.findMany({ orderBy: { createdAt: 'desc' }, take: limit });
      return Promise.all(rows.map(figures));
    },

    /** Broadcasts the pump drives: sending (and paused, for their progress message). */
    async active(): Promise<Array<{ id: string; status: BroadcastStatus }>> {
      return prisma.broadcast.findMany({ where: { status: { in: ACTIVE } }, select: { id: true, status: true } });
    },

    /** The deliveries as CSV rows (customer id, platform, status, error, sent at), in pages. */
    async *deliveriesCsv(id: string): AsyncGenerator<string> {
      await get(id);
      yield 'customer_id,platform,status,error,sent_at\n';
      let cursor: string | undefined;
      for (;;) {
        const page = await prisma.broadcastDelivery.findMany({
          where: { broadcastId: id },
          select: { id: true, customerId: true, platform: true, status: true, error: true, sentAt: true },
          orderBy: { id: 'asc' },
          take: 2000,
          ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
        });
        if (page.length === 0) return;
        yield page.map((r) => [r.customerId, r.platform, r.status, r.error ?? '', r.sentAt?.toISOString() ?? ''].map(csvField).join(',')).join('\n') + '\n';
        cursor = page[page.length - 1]!.id;
      }
    },
  };
}

export type BroadcastsService = ReturnType<typeof createBroadcastsService>;

/** RFC 4180 quoting; a leading = + - @ is prefixed so a spreadsheet does not run it as a formula. */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export type { Recipient, Segment, SegmentCount };
