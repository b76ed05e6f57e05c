/**
 * What every shop-platform adapter shares: applying one version of a platform resource through
 * the same shop-sync operations the signed API uses, exactly once and never backwards, and a
 * log of every delivery with what became of it (for the admin API).
 *
 * Ordering rule: a platform stamps each resource with its modification time (to the second).
 * A version is applied when it is newer than the last one applied; a version with the same
 * stamp is applied only when its content differs (two real changes in one second), and is a
 * duplicate otherwise; an older version is stale and changes nothing. The version row is
 * written in the same transaction as the change, under a row lock, so two deliveries of one
 * resource racing each other are serialised.
 */
import { createHash } from 'node:crypto';
import { DomainError, isDomainError } from '../errors.js';
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from '../infra/logger.js';
import type { PendingNotification } from '../notifications/producer.js';
import type { AfterWrite, ShopSync, WriteContext } from '../domain/shop-sync/shop-sync.js';
import type { OrderInput } from '../domain/shop-sync/types.js';

export type IntegrationPlatform = 'woocommerce' | 'shopify';
export type IntegrationResourceKind = 'order' | 'product' | 'customer' | 'fulfillment';
export type EventStatus = 'applied' | 'duplicate' | 'stale' | 'ignored' | 'refused';

type Tx = Prisma.TransactionClient;

/** A mapping refused the payload: stored as a refused event with this reason, answered 200. */
export class RefusedPayload extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'RefusedPayload';
  }
}

/** Nothing to do for this payload (a draft, a customer without a phone): answered 200, logged. */
export class IgnoredPayload extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'IgnoredPayload';
  }
}

export interface ResourceVersion {
  platform: IntegrationPlatform;
  resource: IntegrationResourceKind;
  externalId: string;
  modifiedAt: Date;
  /** The payload the version came in; its hash tells a repeat from a same-second change. */
  payload: unknown;
}

export interface ApplyResult {
  /** Kabinet's key of what was written (order number, sku, customer id). */
  localKey: string;
  notifications: PendingNotification[];
  /** Alert fan-outs (restock, price drop) the write recorded, queued after the commit. */
  fanouts?: string[];
}

export interface IngestDeps {
  prisma: PrismaClient;
  /** Queues what a committed write produced, as the signed API does (ShopServices.afterWrite). */
  afterWrite(after: AfterWrite): Promise<void>;
  logger: Logger;
}

export interface DeliveryRecord {
  platform: IntegrationPlatform;
  topic: string;
  deliveryId?: string | null;
  externalId?: string | null;
  status: EventStatus;
  reason?: string | null;
  /** Kept only for refused events, so the shop can see what was not understood. */
  payload?: unknown;
}

export const contentHash = (payload: unknown): string => createHash('sha256').update(JSON.stringify(payload ?? null)).digest('hex');

export type Ingest = ReturnType<typeof createIngest>;

export function createIngest(deps: IngestDeps) {
  const { prisma } = deps;

  /**
   * Applies `version` with `apply` (shop-sync calls inside the given transaction) unless it is a
   * repeat or older than what was applied. Domain errors and RefusedPayload/IgnoredPayload
   * propagate with nothing written.
   */
  async function applyVersion(version: ResourceVersion, apply: (tx: Tx) => Promise<ApplyResult>): Promise<{ status: 'applied' | 'duplicate' | 'stale'; localKey?: string }> {
    const hash = contentHash(version.payload);
    const outcome = await prisma.$transaction(
      async (tx) => {
        // Take (or create) the resource's row lock first: a concurrent delivery of the same
        // resource waits here and then sees this one's version.
        await tx.$executeRaw`
          INSERT INTO integration_resources (platform, resource, "externalId", "localKey", "modifiedAt", "contentHash", "updatedAt")
          VALUES (${version.platform}, ${version.resource}, ${version.externalId}, '', to_timestamp(0), '', now())
          ON CONFLICT (platform, resource, "externalId") DO NOTHING`;
        const [current] = await tx.$queryRaw<Array<{ modifiedAt: Date; contentHash: string }>>`
          SELECT "modifiedAt", "contentHash" FROM integration_resources
          WHERE platform = ${version.platform} AND resource = ${version.resource} AND "externalId" = ${version.externalId}
          FOR UPDATE`;
        if (current && current.contentHash !== '') {
          const older = version.modifiedAt.getTime() < current.modifiedAt.getTime();
          const same = version.modifiedAt.getTime() === current.modifiedAt.getTime();
          if (older) return { status: 'stale' as const, notifications: [], fanouts: [] };
          if (same && current.contentHash === hash) return { status: 'duplicate' as const, notifications: [], fanouts: [] };
        }
        const result = await apply(tx);
        await tx.$executeRaw`
          UPDATE integration_resources SET "localKey" = ${result.localKey}, "modifiedAt" = ${version.modifiedAt}, "contentHash" = ${hash}, "updatedAt" = now()
          WHERE platform = ${version.platform} AND resource = ${version.resource} AND "externalId" = ${version.externalId}`;
        return { status: 'applied' as const, localKey: result.localKey, notifications: result.notifications, fanouts: result.fanouts ?? [] };
      },
      { timeout: 30_000, maxWait: 10_000 },
    );
    if (outcome.notifications.length || outcome.fanouts.length) await deps.afterWrite({ notifications: outcome.notifications, fanouts: outcome.fanouts });
    return outcome.status === 'applied' ? { status: 'applied', localKey: outcome.localKey } : { status: outcome.status };
  }

  /** Kabinet's key for a platform resource applied before (e.g. the order number of a Shopify order id). */
  async function localKeyOf(platform: IntegrationPlatform, resource: IntegrationResourceKind, externalId: string): Promise<string | null> {
    const row = await prisma.integrationResource.findUnique({ where: { platform_resource_externalId: { platform, resource, externalId } }, select: { localKey: true } });
    return row && row.localKey !== '' ? row.localKey : null;
  }

  async function record(entry: DeliveryRecord): Promise<void> {
    await prisma.integrationEvent.create({
      data: {
        platform: entry.platform,
        topic: entry.topic.slice(0, 100),
        deliveryId: entry.deliveryId?.slice(0, 200) ?? null,
        externalId: entry.externalId?.slice(0, 100) ?? null,
        status: entry.status,
        reason: entry.reason?.slice(0, 1000) ?? null,
        ...(entry.status === 'refused' && entry.payload !== undefined ? { payload: entry.payload as Prisma.InputJsonValue } : {}),
      },
    });
  }

  /**
   * Runs one delivery's work and records its fate. Refused and ignored payloads, and domain
   * errors (a bad phone, an order of another customer), are answered as handled: the
   * platform must not retry what can never succeed (repeated failures disable its webhook).
   * Anything else (the database is down) propagates, so the edge answers 5xx and the
   * platform retries.
   */
  async function handle(meta: Omit<DeliveryRecord, 'status' | 'reason'>, work: () => Promise<'applied' | 'duplicate' | 'stale'>): Promise<EventStatus> {
    let status: EventStatus;
    let reason: string | null = null;
    try {
      status = await work();
    } catch (err) {
      if (err instanceof IgnoredPayload) {
        status = 'ignored';
        reason = err.reason;
      } else if (err instanceof RefusedPayload) {
        status = 'refused';
        reason = err.reason;
      } else if (isDomainError(err) && err.code !== 'unavailable') {
        status = 'refused';
        const field = typeof err.details?.field === 'string' ? ` (${err.details.field})` : '';
        reason = `${err.message}${field}`;
      } else {
        throw err;
      }
    }
    await record({ ...meta, status, reason });
    if (status === 'refused') deps.logger.warn({ platform: meta.platform, topic: meta.topic, externalId: meta.externalId, reason }, 'platform webhook refused');
    return status;
  }

  return { applyVersion, localKeyOf, record, handle };
}

/**
 * Writes a platform's order: a status change of a known order goes on the timeline at the
 * platform's modification time (not when Kabinet saw it), so the timeline orders carrier
 * events and order updates by when they happened; then the order itself is upserted.
 */
export async function upsertPlatformOrder(tx: Tx, sync: Pick<ShopSync, 'upsertOrder' | 'changeOrderStatus'>, input: OrderInput, modifiedAt: Date, ctx: WriteContext): Promise<PendingNotification[]> {
  const notifications: PendingNotification[] = [];
  const existing = await tx.order.findUnique({ where: { number: input.number }, select: { status: true } });
  if (existing && existing.status !== input.status) {
    const change = { status: input.status, occurredAt: modifiedAt.toISOString(), carrier: input.carrier ?? null, trackingNumber: input.trackingNumber ?? null, trackingUrl: input.trackingUrl ?? null };
    notifications.push(...(await sync.changeOrderStatus(tx, input.number, change, { ...ctx, eventId: `${ctx.eventId}/status` })).notifications);
  }
  notifications.push(...(await sync.upsertOrder(tx, input, ctx)).notifications);
  return notifications;
}

/** A required field the platform's documented payload always has; refused when missing. */
export function need<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined || (typeof value === 'string' && value.trim() === '')) throw new RefusedPayload(`missing ${what}`);
  return value;
}

/** Parses a platform timestamp; WooCommerce's *_gmt fields carry no zone (they are UTC). */
export function platformTime(value: unknown, what: string): Date {
  if (typeof value !== 'string' || value.trim() === '') throw new RefusedPayload(`missing ${what}`);
  const text = /[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`;
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new RefusedPayload(`${what} is not a date: ${value.slice(0, 40)}`);
  return date;
}

/** A money amount as platforms send it ("12.50" or 12.5); refused when not a number. */
export function amount(value: unknown, what: string, fallback?: number): number {
  if ((value === undefined || value === null || value === '') && fallback !== undefined) return fallback;
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  if (!Number.isFinite(n) || n < 0) throw new RefusedPayload(`${what} is not an amount`);
  return Math.round(n * 100) / 100;
}

/** A DomainError for the edge, when a webhook cannot be accepted at all (not a payload problem). */
export const notConfigured = (what: string) => new DomainError('unavailable', `${what} is not configured`);
