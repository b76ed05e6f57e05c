/**
 * The broadcast pump, run by every worker process on a short timer: starts scheduled
 * broadcasts whose time has come (so a restart changes nothing), keeps about two seconds'
 * worth of send jobs (Telegram: chunks of rows; VK: executes) queued per sending broadcast (so a pause stops within a second and
 * notifications never queue behind thousands of promotion jobs), re-queues rows whose job
 * was lost, marks finished broadcasts sent, and keeps the staff group's progress message
 * up to date. A Redis lock per broadcast lets one process pump it at a time.
 */
import type { JobsOptions, Queue } from 'bullmq';
import type { Platform } from '../channels/outbound.js';
import type { BroadcastsService } from '../domain/broadcasts/broadcasts.service.js';
import type { Clock } from '../infra/clock.js';
import type { Translator } from '../infra/i18n.js';
import { unavailableDependency } from '../infra/dependency-errors.js';
import type { Logger } from '../infra/logger.js';
import type { PrismaClient } from '../infra/prisma.js';
import type { QueueFactory } from '../infra/queues.js';
import type { Redis } from '../infra/redis.js';
import { SEND_QUEUE } from '../notifications/send-queue.js';
import { progressText, type StaffPoster } from './reporter.js';
import { BROADCAST_TELEGRAM_JOB, BROADCAST_VK_JOB, telegramChunkSize, type TelegramBroadcastJob, type VkBroadcastJob } from './send.processor.js';
import { EXECUTE_MAX_CALLS } from './vk-batch.js';

/** Broadcast jobs wait behind every notification (BullMQ takes unprioritized jobs first). */
export const BROADCAST_PRIORITY = 100;

export interface BroadcastPumpDeps {
  prisma: PrismaClient;
  redis: Redis;
  redisKeyPrefix: string;
  queues: QueueFactory;
  clock: Clock;
  logger: Logger;
  translator: Translator;
  service: BroadcastsService;
  /** Messages (Telegram) or requests (VK) per second: sizes the queued window and Telegram's chunks. */
  ratePerSecond: Record<Platform, number>;
  /** Platforms with a sender; rows of another platform wait (and are reported). */
  platforms: Platform[];
  maxAttempts: number;
  backoffMs: number;
  /** Staff group progress; absent = no progress messages. */
  poster?: StaffPoster | undefined;
  progressIntervalMs: number;
  intervalMs?: number;
  /** Seconds of sending kept queued ahead. */
  windowSeconds?: number;
  /** A queued row older than this whose job is gone is queued again. */
  staleMs?: number;
}

export interface BroadcastPump {
  /** One pass over every due and active broadcast (also run by the timer). */
  tick(): Promise<void>;
  /** Runs a pass soon (after a start or a resume). */
  poke(): void;
  start(): void;
  stop(): Promise<void>;
}

export function createBroadcastPump(deps: BroadcastPumpDeps): BroadcastPump {
  const { prisma, redis, clock, logger } = deps;
  const interval = deps.intervalMs ?? 500;
  const windowSeconds = deps.windowSeconds ?? 2;
  const staleMs = deps.staleMs ?? 120_000;
  const lastProgress = new Map<string, { at: number; sent: number; rate: number }>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const queue = (p: Platform) => deps.queues.queue(SEND_QUEUE[p]) as Queue;
  const jobOptions = (jobId: string): JobsOptions => ({
    jobId,
    priority: BROADCAST_PRIORITY,
    attempts: deps.maxAttempts + 1,
    backoff: { type: 'exponential', delay: deps.backoffMs, jitter: 0.5 },
    removeOnComplete: true,
    removeOnFail: true,
  });

  async function withLock(id: string, run: () => Promise<void>): Promise<void> {
    const key = `${deps.redisKeyPrefix}broadcast-pump:${id}`;
    const token = `${process.pid}:${Math.random()}`;
    const got = await redis.set(key, token, 'PX', Math.max(5_000, interval * 10), 'NX');
    if (!got) return;
    try {
      await run();
    } finally {
      // Release only our own lock.
      await redis.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0", 1, key, token);
    }
  }

  /** Telegram: jobs of `chunk` rows each (ids in the job), about windowSeconds of sending queued. */
  const chunk = telegramChunkSize(deps.ratePerSecond.telegram);
  const telegramJobs = (id: string, ids: string[], stamp: number) => {
    const jobs = [];
    for (let i = 0; i < ids.length; i += chunk) {
      const part = ids.slice(i, i + chunk);
      // Unique per queuing: a row put back (pause, end of the send window) and queued again
      // must not be swallowed by its old job's id; two jobs holding one row claim it once.
      jobs.push({ name: BROADCAST_TELEGRAM_JOB, data: { broadcastId: id, deliveryIds: part } satisfies TelegramBroadcastJob, opts: jobOptions(`bt-${part[0]}-${stamp}`) });
    }
    return jobs;
  };

  async function feedTelegram(id: string): Promise<void> {
    const window = Math.max(2 * chunk, deps.ratePerSecond.telegram * windowSeconds);
    const queued = await prisma.broadcastDelivery.count({ where: { broadcastId: id, platform: 'telegram', status: 'pending', enqueuedAt: { not: null } } });
    const want = window - queued;
    const now = clock.now();
    if (want >= chunk / 2) {
      const rows = await prisma.broadcastDelivery.findMany({ where: { broadcastId: id, platform: 'telegram', status: 'pending', enqueuedAt: null }, select: { id: true }, orderBy: { id: 'asc' }, take: Math.ceil(want / chunk) * chunk });
      if (rows.length > 0) {
        // Jobs first, then the mark: a crash in between queues the rows again in new jobs; a row
        // in two jobs is claimed by one of them.
        await queue('telegram').addBulk(telegramJobs(id, rows.map((r) => r.id), now.getTime()));
        await prisma.broadcastDelivery.updateMany({ where: { id: { in: rows.map((r) => r.id) }, enqueuedAt: null }, data: { enqueuedAt: now } });
      }
    }
    const stale = await prisma.broadcastDelivery.findMany({ where: { broadcastId: id, platform: 'telegram', status: 'pending', enqueuedAt: { lt: new Date(now.getTime() - staleMs) } }, select: { id: true }, orderBy: { id: 'asc' }, take: 1000 });
    if (stale.length > 0) {
      logger.warn({ broadcastId: id, rows: stale.length }, 'broadcast rows queued long ago are queued again');
      await queue('telegram').addBulk(telegramJobs(id, stale.map((r) => r.id), now.getTime() + 1));
      await prisma.broadcastDelivery.updateMany({ where: { id: { in: stale.map((r) => r.id) } }, data: { enqueuedAt: now } });
    }
  }

  async function feedVk(id: string): Promise<void> {
    const windowChunks = Math.max(EXECUTE_MAX_CALLS, deps.ratePerSecond.vk * windowSeconds * EXECUTE_MAX_CALLS);
    const [{ queued } = { queued: 0 }] = await prisma.$queryRaw<Array<{ queued: number }>>`
      SELECT count(DISTINCT "chunk")::int AS queued FROM "broadcast_deliveries"
      WHERE "broadcastId" = ${id}::uuid AND "platform" = 'vk' AND "status" = 'pending' AND "enqueuedAt" IS NOT NULL`;
    const want = windowChunks - queued;
    const now = clock.now();
    const stale = await prisma.$queryRaw<Array<{ chunk: number }>>`
      SELECT DISTINCT "chunk" FROM "broadcast_deliveries"
      WHERE "broadcastId" = ${id}::uuid AND "platform" = 'vk' AND "status" = 'pending' AND "enqueuedAt" < ${new Date(now.getTime() - staleMs)}
      ORDER BY "chunk" LIMIT 500`;
    const fresh = want > 0
      ? await prisma.$queryRaw<Array<{ chunk: number }>>`
          SELECT DISTINCT "chunk" FROM "broadcast_deliveries"
          WHERE "broadcastId" = ${id}::uuid AND "platform" = 'vk' AND "status" = 'pending' AND "enqueuedAt" IS NULL
          ORDER BY "chunk" LIMIT ${want}`
      : [];
    const chunks = [...fresh.map((c) => c.chunk), ...stale.map((c) => c.chunk)];
    if (chunks.length === 0) return;
    if (stale.length > 0) logger.warn({ broadcastId: id, chunks: stale.length }, 'VK broadcast chunks queued long ago are queued again (random_id makes a repeat harmless)');
    const jobs = [];
    for (let i = 0; i < chunks.length; i += EXECUTE_MAX_CALLS) {
      const group = chunks.slice(i, i + EXECUTE_MAX_CALLS);
      // A re-queued group gets a fresh id; the original job, if it still runs, finds its rows taken.
      const suffix = i >= fresh.length ? `-r${now.getTime()}` : '';
      jobs.push({ name: BROADCAST_VK_JOB, data: { broadcastId: id, chunks: group } satisfies VkBroadcastJob, opts: jobOptions(`bv-${id}-${group[0]}-${group.length}${suffix}`) });
    }
    await queue('vk').addBulk(jobs);
    await prisma.broadcastDelivery.updateMany({ where: { broadcastId: id, platform: 'vk', status: 'pending', chunk: { in: chunks } }, data: { enqueuedAt: now } });
  }

  async function report(id: string, final: boolean): Promise<void> {
    if (!deps.poster) return;
    const b = await prisma.broadcast.findUnique({ where: { id }, select: { staffMessageId: true } });
    if (!b) return;
    const nowMs = clock.now().getTime();
    const last = lastProgress.get(id);
    if (!final && b.staffMessageId && last && nowMs - last.at < deps.progressIntervalMs) return;
    const figures = await deps.service.status(id);
    const rate = last && nowMs > last.at ? Math.max(0, ((figures.sent - last.sent) * 1000) / (nowMs - last.at)) : 0;
    lastProgress.set(id, { at: nowMs, sent: figures.sent, rate: rate || last?.rate || 0 });
    const text = progressText(figures, rate || last?.rate || 0, deps.translator.t(deps.translator.defaultLanguage));
    try {
      if (b.staffMessageId) await deps.poster.edit(b.staffMessageId, text);
      else {
        const messageId = await deps.poster.post(text);
        await prisma.broadcast.update({ where: { id }, data: { staffMessageId: messageId } });
      }
    } catch (err) {
      logger.warn({ broadcastId: id, err: { message: (err as Error).message } }, 'could not update the broadcast progress in the staff group');
    }
    if (final) lastProgress.delete(id);
  }

  /** Final reports for broadcasts that ended (sent here, or cancelled through the API). */
  async function finals(): Promise<void> {
    if (!deps.poster) return;
    const since = new Date(clock.now().getTime() - 3_600_000);
    const ended = await prisma.broadcast.findMany({ where: { status: { in: ['sent', 'cancelled'] }, finishedAt: { gte: since }, startedAt: { not: null } }, select: { id: true }, take: 20 });
    for (const { id } of ended) {
      const key = `${deps.redisKeyPrefix}broadcast-final:${id}`;
      if (!(await redis.set(key, '1', 'EX', 86_400, 'NX'))) continue;
      await report(id, true);
    }
  }

  async function pass(): Promise<void> {
    const started = await deps.service.startDue();
    if (started.length > 0) logger.info({ broadcasts: started }, 'scheduled broadcasts started');
    for (const b of await deps.service.active()) {
      await withLock(b.id, async () => {
        const current = await prisma.broadcast.findUnique({ where: { id: b.id }, select: { status: true } });
        if (current?.status === 'sending') {
          if (deps.platforms.includes('telegram')) await feedTelegram(b.id);
          if (deps.platforms.includes('vk')) await feedVk(b.id);
          // Recipients on a messenger this installation has no token for cannot be reached.
          const unreachable = (['telegram', 'vk'] as const).filter((p) => !deps.platforms.includes(p));
          if (unreachable.length > 0) {
            await prisma.broadcastDelivery.updateMany({ where: { broadcastId: b.id, status: 'pending', platform: { in: [...unreachable] } }, data: { status: 'failed', error: 'this messenger is not configured (no bot token)' } });
          }
          if (await deps.service.finishIfDone(b.id)) {
            logger.info({ broadcastId: b.id }, 'broadcast finished');
            return;
          }
        }
        await report(b.id, false);
      });
    }
    await finals();
  }

  async function tick(): Promise<void> {
    if (running) return running;
    running = pass()
      .catch((err: Error) => {
        // PostgreSQL or Redis away (a restart): the next pass picks up where this one stopped.
        const down = unavailableDependency(err);
        if (down) logger.warn({ dependency: down }, 'broadcast pump pass skipped: a dependency is unavailable');
        else logger.error({ err: { message: err.message, stack: err.stack } }, 'broadcast pump pass failed');
      })
      .finally(() => { running = undefined; });
    return running;
  }

  function schedule(delay: number) {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => void tick().finally(() => schedule(interval)), delay);
  }

  return {
    tick,
    poke: () => schedule(0),
    start: () => schedule(0),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
