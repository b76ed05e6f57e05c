/**
 * The broadcast jobs inside the per-platform send queues (`send-telegram`, `send-vk`), so
 * they share those queues with notifications. Broadcast jobs carry a BullMQ priority and
 * notifications none: a worker always takes a waiting notification before the next
 * broadcast job.
 *
 * Telegram: one job per chunk of rows (50–200, `telegramChunkSize`), claimed in one
 * statement; the chunk's messages go out concurrently, each at a slot of the bot token's
 * pacer (src/channels/token-pacer.ts, low priority: notifications take theirs first), and
 * their outcomes are written in bulk (src/broadcasts/outcomes.ts, every 50 ms).
 * VK: one job per group of up to 25 chunks (one `execute` request), each chunk one
 * messages.send to up to 100 peers with random_id = f(broadcast, chunk).
 *
 * The row is the record of truth. A job claims its row(s) (status pending → sendingAt set)
 * in the same statement that reads what it needs, sends, and records the outcome. A row
 * found pending with sendingAt set belongs to a worker that died mid-send: it is sent
 * again once the claim is stale. On VK the same random_id makes VK drop the repeat; on
 * Telegram a repeat happens only if the first request had reached Telegram (see
 * src/broadcasts/README.md).
 */
import { DelayedError, UnrecoverableError, Worker, type Job, type Queue } from 'bullmq';
import { SendFailure, type OutboundCall, type OutboundSender } from '../channels/outbound.js';
import { sendAtSlots, type TokenPacer } from '../channels/token-pacer.js';
import { VK_BLOCKED, VK_RATE_LIMITED, VK_RETRY_AFTER_SECONDS } from '../channels/vk/errors.js';
import { renderMessage, telegramCall, vkParams, type BroadcastContent, type RenderedMessage } from '../domain/broadcasts/content.js';
import { messageKey, vkRandomId } from '../domain/broadcasts/broadcasts.service.js';
import type { BroadcastStatus } from '../generated/prisma/enums.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import { Prisma, type PrismaClient } from '../infra/prisma.js';
import { createSemaphore } from '../lib/semaphore.js';
import type { Outcome, OutcomeRecorder } from './outcomes.js';
import type { PlaceholderSource } from './render.js';
import { EXECUTE_MAX_CALLS, type VkBatchApi, type VkSendCall } from './vk-batch.js';

export const BROADCAST_TELEGRAM_JOB = 'broadcast-telegram';
export const BROADCAST_VK_JOB = 'broadcast-vk';

export interface TelegramBroadcastJob {
  broadcastId: string;
  /** The chunk's rows. */
  deliveryIds: string[];
  /** Jobs queued before chunks carried one row each. */
  deliveryId?: string;
}

/** Rows per Telegram job: about 1.7 s of sending at 30/s, 0.2 s at 1000/s. */
export function telegramChunkSize(ratePerSecond: number): number {
  return Math.min(200, Math.max(50, Math.ceil(ratePerSecond / 5)));
}

/**
 * A Telegram chunk's message must start within this long after the claim; what has not
 * started by then (slots taken by notifications, a long 429) is put back for the pump. So
 * a claim is known dead once it is older than this plus the longest send.
 */
export const TELEGRAM_CHUNK_SEND_WINDOW_MS = 10_000;

/** Telegram chunks one worker process claims and sends at once (the others wait before their claim). */
export const TELEGRAM_CHUNKS_AT_ONCE = 2;

export interface VkBroadcastJob {
  broadcastId: string;
  chunks: number[];
}

export type BroadcastJobOutcome = 'sent' | 'released' | 'done' | 'skipped' | 'blocked' | 'failed' | 'partial';

interface ClaimedRow {
  id: string;
  customerId: string;
  identityId: string;
  chatId: string;
  chunk: number | null;
  attempts: number;
  blockedAt: Date | null;
  identityCustomerId: string | null;
  marketingConsent: boolean;
  notifyPromotions: boolean;
  language: string;
  firstName: string | null;
  points: number;
  tierCode: string | null;
}

interface BroadcastState {
  status: BroadcastStatus;
  content: BroadcastContent;
  vkAttachment: string | null;
  at: number;
}

export interface BroadcastProcessorDeps {
  prisma: PrismaClient;
  clock: Clock;
  logger: Logger;
  defaultLanguage: string;
  placeholders: PlaceholderSource;
  /** Tries per row for transient failures (network, 5xx) before it counts as failed. */
  maxAttempts: number;
  /** How long a broadcast's status is trusted in memory: pause and cancel act within this plus one send. */
  statusCacheMs?: number;
  /**
   * A claim older than this belongs to a dead worker and is taken over (the message is sent
   * again). Must exceed the longest send (the senders' request timeout). A Telegram chunk's
   * claim lasts TELEGRAM_CHUNK_SEND_WINDOW_MS longer (its last message starts that late).
   */
  claimTimeoutMs: number;
  /** Writes outcomes in bulk; shared by every job of the process. */
  outcomes: OutcomeRecorder;
  /** Default TELEGRAM_CHUNK_SEND_WINDOW_MS. */
  telegramSendWindowMs?: number;
  /** Default TELEGRAM_CHUNKS_AT_ONCE. */
  telegramChunksAtOnce?: number;
}

const clip = (s: string) => (s.length > 500 ? `${s.slice(0, 497)}...` : s);

/** Shared by both platforms: the broadcast's status and content, cached briefly per process. */
function createStateCache(deps: BroadcastProcessorDeps) {
  const cache = new Map<string, BroadcastState>();
  const ttl = deps.statusCacheMs ?? 250;
  return {
    async get(id: string): Promise<BroadcastState | undefined> {
      const hit = cache.get(id);
      if (hit && Date.now() - hit.at < ttl) return hit;
      const b = await deps.prisma.broadcast.findUnique({ where: { id }, select: { status: true, text: true, imageUrl: true, buttons: true, vkAttachment: true } });
      if (!b) {
        cache.delete(id);
        return undefined;
      }
      const state: BroadcastState = {
        status: b.status,
        content: { text: b.text as Record<string, string>, imageUrl: b.imageUrl, buttons: (b.buttons as BroadcastContent['buttons']) ?? null },
        vkAttachment: b.vkAttachment,
        at: Date.now(),
      };
      if (cache.size > 1000) cache.clear();
      cache.set(id, state);
      return state;
    },
    forget(id: string) {
      cache.delete(id);
    },
  };
}

/**
 * Claims pending rows that nobody is sending: no claim, or a claim older than any send can
 * take (its worker died). A live worker's claim is never taken over, even when BullMQ hands
 * the same job to a second worker after a missed lock renewal.
 */
function claimSql(where: Prisma.Sql, now: Date, staleBefore: Date): Prisma.Sql {
  return Prisma.sql`
    UPDATE "broadcast_deliveries" d SET "sendingAt" = ${now}, "attempts" = d."attempts" + 1, "updatedAt" = ${now}
    FROM "channel_identities" i, "customers" c
    WHERE ${where} AND d."status" = 'pending' AND (d."sendingAt" IS NULL OR d."sendingAt" < ${staleBefore})
      AND i."id" = d."identityId" AND c."id" = d."customerId"
    RETURNING d."id", d."customerId", d."identityId", i."chatId", d."chunk", d."attempts", i."blockedAt", i."customerId" AS "identityCustomerId",
      c."marketingConsent", c."notifyPromotions", c."language", c."firstName", c."pointsBalance" AS "points", c."loyaltyTierCode" AS "tierCode"`;
}

export function createBroadcastProcessors(deps: BroadcastProcessorDeps) {
  const { prisma, clock, logger } = deps;
  const states = createStateCache(deps);
  const sendWindowMs = deps.telegramSendWindowMs ?? TELEGRAM_CHUNK_SEND_WINDOW_MS;
  const telegramLeaseMs = deps.claimTimeoutMs + sendWindowMs;
  const staleBefore = (now: Date, leaseMs = deps.claimTimeoutMs) => new Date(now.getTime() - leaseMs);

  /**
   * The rows are claimed by a send that may still be running: come back when that claim
   * would be stale (if its worker died, this job then sends; if not, it finds them done).
   */
  async function later(job: Job, token: string | undefined, where: Prisma.BroadcastDeliveryWhereInput, leaseMs = deps.claimTimeoutMs): Promise<BroadcastJobOutcome> {
    const claimed = await prisma.broadcastDelivery.findFirst({ where: { ...where, status: 'pending', sendingAt: { not: null } }, select: { sendingAt: true }, orderBy: { sendingAt: 'desc' } });
    if (!claimed?.sendingAt || !token) return 'done';
    await job.moveToDelayed(claimed.sendingAt.getTime() + leaseMs + 50, token);
    throw new DelayedError();
  }

  async function settle(ids: string[], data: { status: 'sent' | 'failed' | 'blocked' | 'skipped'; error?: string | null; sentAt?: Date; externalMessageId?: string }) {
    if (ids.length === 0) return;
    await prisma.broadcastDelivery.updateMany({ where: { id: { in: ids } }, data: { ...data, sendingAt: null } });
  }

  async function recordSent(write: () => Promise<unknown>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await write();
        return;
      } catch (err) {
        if (attempt >= 5) throw err;
        logger.warn({ attempt, err: { message: (err as Error).message } }, 'could not record a sent broadcast message yet; trying again');
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  }

  /** Puts rows back for the pump: not sent, not queued. */
  async function release(ids: string[], error?: string) {
    if (ids.length === 0) return;
    await prisma.broadcastDelivery.updateMany({ where: { id: { in: ids }, status: 'pending' }, data: { sendingAt: null, enqueuedAt: null, ...(error ? { error: clip(error) } : {}) } });
  }

  /** Rows that must not be sent any more: blocked since, unlinked, or consent withdrawn (recorded in bulk). */
  async function screen(rows: ClaimedRow[]): Promise<ClaimedRow[]> {
    const writes: Array<Promise<void>> = [];
    const keep: ClaimedRow[] = [];
    for (const r of rows) {
      if (r.blockedAt) writes.push(deps.outcomes.record({ id: r.id, status: 'blocked', error: 'identity blocked the bot' }));
      else if (r.identityCustomerId !== r.customerId) writes.push(deps.outcomes.record({ id: r.id, status: 'skipped', error: 'identity no longer linked to the customer' }));
      else if (!(r.marketingConsent && r.notifyPromotions)) writes.push(deps.outcomes.record({ id: r.id, status: 'skipped', error: 'marketing consent or promotions switched off' }));
      else keep.push(r);
    }
    await Promise.all(writes);
    return keep;
  }

  async function render(state: BroadcastState, row: ClaimedRow): Promise<RenderedMessage> {
    return renderMessage(state.content, row.language, deps.defaultLanguage, await deps.placeholders(row));
  }

  /** Before any claim: a paused broadcast's job puts its rows back; a cancelled one's are skipped. */
  async function gate(broadcastId: string, rowsWhere: Prisma.BroadcastDeliveryWhereInput): Promise<BroadcastState | 'stop'> {
    const state = await states.get(broadcastId);
    if (!state || state.status === 'cancelled' || state.status === 'sent' || state.status === 'failed') {
      await prisma.broadcastDelivery.updateMany({ where: { ...rowsWhere, status: 'pending', sendingAt: null }, data: { status: 'skipped', error: 'cancelled', enqueuedAt: null } });
      return 'stop';
    }
    if (state.status !== 'sending') {
      // Paused: back to the pump. A row another job is sending right now is left to it.
      await prisma.broadcastDelivery.updateMany({ where: { ...rowsWhere, status: 'pending', sendingAt: null }, data: { enqueuedAt: null } });
      return 'stop';
    }
    return state;
  }

  const asFailure = (err: unknown) => (err instanceof SendFailure ? err : new SendFailure('transient', err instanceof Error ? err.message : String(err)));
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

  /**
   * One chunk: claim every row in one statement, then send them concurrently, each at a slot
   * of the token's pacer (low priority), re-reading the broadcast's status (cached 250 ms)
   * before each run of slots. Outcomes go to the bulk recorder as answers arrive. A 429 holds
   * the pacer (every process, notifications too) for retry_after and the row waits for a new
   * slot; a pause, a cancel or the end of the send window stops taking slots, and the rows
   * not yet sent are put back (or skipped, when cancelled).
   */
  function telegram(sender: OutboundSender, pacer: TokenPacer) {
    // A few chunks per process at a time: the pacer grants a broadcast 200 ms of slots ahead, so
    // more would only claim rows early (all the pump's queued jobs at once when a broadcast
    // starts: a burst of claim statements and renders that stalls the sends already under way).
    const chunks = createSemaphore(deps.telegramChunksAtOnce ?? TELEGRAM_CHUNKS_AT_ONCE);
    return (job: Job<TelegramBroadcastJob>, token?: string): Promise<BroadcastJobOutcome> => chunks.run(() => processTelegram(job, token));

    async function processTelegram(job: Job<TelegramBroadcastJob>, token?: string): Promise<BroadcastJobOutcome> {
      const { broadcastId } = job.data;
      const ids = job.data.deliveryIds ?? (job.data.deliveryId ? [job.data.deliveryId] : []);
      const rowsWhere: Prisma.BroadcastDeliveryWhereInput = { id: { in: ids } };
      const first = await gate(broadcastId, rowsWhere);
      if (first === 'stop') return 'released';
      const now = clock.now();
      const claimed = await prisma.$queryRaw<ClaimedRow[]>(claimSql(Prisma.sql`d."id" = ANY(${ids}::uuid[]) AND d."platform" = 'telegram'`, now, staleBefore(now, telegramLeaseMs)));
      if (claimed.length === 0) return later(job, token, rowsWhere, telegramLeaseMs);
      const takenOver = claimed.filter((r) => r.attempts > 1).length;
      if (takenOver > 0) logger.info({ broadcastId, rows: takenOver }, 'broadcast rows taken over from a worker that stopped mid-send (or retried); sending again');
      const rows = await screen(claimed);
      const deadline = Date.now() + sendWindowMs;
      const written: Array<Promise<void>> = [];
      let writeFailure: unknown;
      // Handled at once (an outcome write may fail long before the chunk ends), thrown at the end.
      const note = (outcome: Outcome) => written.push(deps.outcomes.record(outcome).catch((err: unknown) => { writeFailure ??= err; }));
      const retry: ClaimedRow[] = [];
      let transient: SendFailure | undefined;
      let stop: 'paused' | 'cancelled' | 'late' | undefined;

      // Rendered before the slots, so a slot's time is the request's time.
      const prepared: Array<{ row: ClaimedRow; call: OutboundCall }> = [];
      for (const row of rows) {
        try {
          prepared.push({ row, call: telegramCall(await render(first, row), row.chatId) });
        } catch (err) {
          retry.push(row);
          transient ??= asFailure(err);
        }
      }

      async function sendOne({ row, call }: { row: ClaimedRow; call: OutboundCall }, again: () => void): Promise<void> {
        let messageId: string;
        try {
          messageId = (await sender.send(call)).messageId;
        } catch (err) {
          const failure = asFailure(err);
          switch (failure.kind) {
            case 'rate_limited':
              // Nothing went out: every sender of this token waits, and the row takes a new slot.
              await pacer.hold(Math.max(1, failure.retryAfterSeconds ?? 1) * 1000);
              again();
              return;
            case 'blocked':
              note({ id: row.id, status: 'blocked', error: clip(failure.message) });
              return;
            case 'permanent':
              note({ id: row.id, status: 'failed', error: clip(failure.message) });
              return;
            case 'transient':
              if (row.attempts >= deps.maxAttempts) note({ id: row.id, status: 'failed', error: clip(`gave up after ${row.attempts} attempts: ${failure.message}`) });
              else {
                retry.push(row);
                transient = failure;
              }
              return;
          }
        }
        // The message is out: on record within the recorder's 50 ms.
        note({ id: row.id, status: 'sent', externalMessageId: messageId });
      }

      const { unsent: left, errors } = await sendAtSlots(pacer, prepared, 'low', sendOne, async () => {
        const now = await states.get(broadcastId);
        if (!now || now.status !== 'sending') stop = now?.status === 'paused' ? 'paused' : 'cancelled';
        else if (Date.now() > deadline) stop = 'late';
        return stop === undefined;
      });
      // Anything that escaped sendOne (Redis down during a hold): tried again with the job.
      for (const { item, error } of errors) {
        retry.push(item.row);
        transient ??= asFailure(error);
      }

      const unsent = left.map((p) => p.row.id);
      if (stop === 'cancelled') for (const id of unsent) note({ id, status: 'skipped', error: 'cancelled' });
      else if (unsent.length > 0) {
        // Back to the pump, never tried: the claim's attempt is given back.
        await prisma.broadcastDelivery.updateMany({ where: { id: { in: unsent }, status: 'pending' }, data: { sendingAt: null, enqueuedAt: null, attempts: { decrement: 1 } } });
      }
      // Transient failures: the job is retried with backoff and claims them again.
      if (retry.length > 0) await prisma.broadcastDelivery.updateMany({ where: { id: { in: retry.map((r) => r.id) }, status: 'pending' }, data: { sendingAt: null, error: clip(transient!.message) } });
      await Promise.all(written);
      if (writeFailure) throw writeFailure;
      if (transient) throw transient;
      if (stop) return 'released';
      // Rows of this chunk that another (live) claim holds: come back when it would be stale.
      if (claimed.length < ids.length) return later(job, token, rowsWhere, telegramLeaseMs);
      return 'sent';
    }
  }

  function vk(api: VkBatchApi, queue: Queue, pacer?: TokenPacer) {
    async function attachmentFor(broadcastId: string, state: BroadcastState): Promise<string | null> {
      if (!state.content.imageUrl) return null;
      if (state.vkAttachment) return state.vkAttachment;
      // Uploaded once per broadcast; a race between workers uploads twice, harmlessly.
      const attachment = await api.uploadPhoto(state.content.imageUrl);
      await prisma.broadcast.update({ where: { id: broadcastId }, data: { vkAttachment: attachment } });
      state.vkAttachment = attachment;
      states.forget(broadcastId);
      return attachment;
    }

    return async function processVk(job: Job<VkBroadcastJob>, token?: string): Promise<BroadcastJobOutcome> {
      const { broadcastId, chunks } = job.data;
      const rowsWhere = { broadcastId, chunk: { in: chunks } };
      const state = await gate(broadcastId, rowsWhere);
      if (state === 'stop') return 'released';
      const at = clock.now();
      const claimed = await prisma.$queryRaw<ClaimedRow[]>(claimSql(Prisma.sql`d."broadcastId" = ${broadcastId}::uuid AND d."chunk" = ANY(${chunks}::int[])`, at, staleBefore(at)));
      if (claimed.length === 0) return later(job, token, rowsWhere);
      const rows = await screen(claimed);
      if (rows.length === 0) return 'skipped';

      let attachment: string | null;
      try {
        attachment = await attachmentFor(broadcastId, state);
      } catch (err) {
        const failure = err instanceof SendFailure ? err : new SendFailure('transient', String(err));
        if (failure.kind === 'permanent') {
          await settle(rows.map((r) => r.id), { status: 'failed', error: clip(`picture: ${failure.message}`) });
          return 'failed';
        }
        await release(rows.map((r) => r.id), failure.message);
        throw failure;
      }

      // Group by chunk and rendered message: a chunk was built from identical messages, but a
      // name may have changed since; a split chunk keeps its random_id (VK scopes it per peer).
      const groups = new Map<string, { chunk: number; message: RenderedMessage; rows: ClaimedRow[] }>();
      for (const row of rows) {
        const message = await render(state, row);
        const key = `${row.chunk}:${messageKey(message)}`;
        const g = groups.get(key) ?? { chunk: row.chunk ?? 0, message, rows: [] };
        g.rows.push(row);
        groups.set(key, g);
      }
      const all = [...groups.values()];
      const now = all.slice(0, EXECUTE_MAX_CALLS);
      // More than one request's worth (names changed mid-broadcast): the rest wait for the pump.
      await release(all.slice(EXECUTE_MAX_CALLS).flatMap((g) => g.rows.map((r) => r.id)));
      const calls: VkSendCall[] = now.map((g) => ({ peerIds: g.rows.map((r) => Number(r.chatId)), randomId: vkRandomId(broadcastId, g.chunk), params: vkParams(g.message, attachment) }));

      let results;
      try {
        results = await api.send(calls);
      } catch (err) {
        const failure = err instanceof SendFailure ? err : new SendFailure('transient', err instanceof Error ? err.message : String(err));
        const ids = now.flatMap((g) => g.rows.map((r) => r.id));
        if (failure.kind === 'rate_limited') {
          await prisma.broadcastDelivery.updateMany({ where: { id: { in: ids } }, data: { sendingAt: null, attempts: { decrement: 1 } } });
          const waitMs = Math.max(1, failure.retryAfterSeconds ?? VK_RETRY_AFTER_SECONDS) * 1000;
          // The token's limit: every process waits (replies and notifications too), like Telegram's 429.
          await pacer?.hold(waitMs);
          await queue.rateLimit(waitMs);
          throw Worker.RateLimitError();
        }
        if (failure.kind === 'transient' && job.attemptsMade + 1 < (job.opts.attempts ?? 1)) {
          // Retried with the same random_ids: whatever VK did accept is dropped as a repeat.
          await prisma.broadcastDelivery.updateMany({ where: { id: { in: ids } }, data: { sendingAt: null, error: clip(failure.message) } });
          throw failure;
        }
        await settle(ids, { status: 'failed', error: clip(failure.message) });
        if (failure.kind === 'transient') throw new UnrecoverableError(failure.message);
        return 'failed';
      }

      const sentAt = clock.now();
      const sent: Array<{ id: string; messageId: number }> = [];
      const blocked: ClaimedRow[] = [];
      const retry: ClaimedRow[] = [];
      const failed = new Map<string, string[]>();
      const fail = (row: ClaimedRow, message: string) => failed.set(message, [...(failed.get(message) ?? []), row.id]);
      now.forEach((g, i) => {
        const result = results[i];
        const byPeer = new Map(g.rows.map((r) => [Number(r.chatId), r] as const));
        if (!result || 'error' in result) {
          const e = result && 'error' in result ? result.error : { code: 10, message: 'no answer' };
          for (const row of g.rows) {
            if (VK_RATE_LIMITED.has(e.code) || e.code === 10) retry.push(row);
            else if (VK_BLOCKED.has(e.code)) blocked.push(row);
            else fail(row, `VK ${e.code}: ${e.message}`);
          }
          return;
        }
        for (const peer of result.peers) {
          const row = byPeer.get(peer.peerId);
          if (!row) continue;
          byPeer.delete(peer.peerId);
          if ('messageId' in peer) sent.push({ id: row.id, messageId: peer.messageId });
          else if (VK_BLOCKED.has(peer.error.code)) blocked.push(row);
          else if (VK_RATE_LIMITED.has(peer.error.code) || peer.error.code === 10) retry.push(row);
          else fail(row, `VK ${peer.error.code}: ${peer.error.message}`);
        }
        for (const row of byPeer.values()) retry.push(row); // VK said nothing about this peer
      });

      if (sent.length > 0) {
        await recordSent(() => prisma.$executeRaw`
          UPDATE "broadcast_deliveries" d SET "status" = 'sent', "sentAt" = ${sentAt}, "sendingAt" = NULL, "error" = NULL, "updatedAt" = ${sentAt},
            "externalMessageId" = v.mid
          FROM (SELECT unnest(${sent.map((s) => s.id)}::uuid[]) AS id, unnest(${sent.map((s) => String(s.messageId))}::text[]) AS mid) v
          WHERE d."id" = v.id`);
      }
      if (blocked.length > 0) {
        await prisma.$transaction([
          prisma.channelIdentity.updateMany({ where: { id: { in: blocked.map((r) => r.identityId) } }, data: { blockedAt: sentAt } }),
          prisma.broadcastDelivery.updateMany({ where: { id: { in: blocked.map((r) => r.id) } }, data: { status: 'blocked', error: 'VK: the user does not allow messages from the community', sendingAt: null } }),
        ]);
      }
      for (const [message, ids] of failed) await settle(ids, { status: 'failed', error: clip(message) });
      const exhausted = retry.filter((r) => r.attempts >= deps.maxAttempts);
      await settle(exhausted.map((r) => r.id), { status: 'failed', error: 'gave up after repeated VK errors' });
      await release(retry.filter((r) => r.attempts < deps.maxAttempts).map((r) => r.id), 'VK asked to retry');
      if (retry.length > 0) logger.warn({ broadcastId, peers: retry.length }, 'VK refused some peers for now; they are queued again');
      return retry.length > 0 ? 'partial' : 'sent';
    };
  }

  return { telegram, vk, states };
}
