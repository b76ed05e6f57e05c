/**
 * Back-in-stock and price-drop alerts, fanned out set-based. The shop's request only records
 * that a watched product changed (`recordAlertFanouts`, one AlertFanout row in its
 * transaction); the worker then runs the fan-out in chunks, each one SQL statement that flips
 * the alerts and writes one Notification per linked messenger identity. A popular product's
 * 100,000 subscribers cost the shop's request nothing and the worker a few dozen statements.
 *
 * Each chunk commits on its own and is idempotent: an alert leaves the match once it fired
 * (back-in-stock: `active` off; price-drop: `basePrice` moved to the new price), and the
 * notification's dedupKey (`<kind>:<alertId>:<fanoutId|price>:<identityId>`) holds a replay
 * to one row. A crash mid-way leaves the fan-out unfinished; the sweeper runs it again and it
 * continues where it stopped. Rows written but not yet queued are found by the notification
 * sweeper.
 */
import type { Prisma, PrismaClient } from '../../generated/prisma/client.js';
import type { Clock } from '../../infra/clock.js';
import type { PendingNotification } from '../../notifications/producer.js';
import type { Platform } from '../../generated/prisma/enums.js';

type Tx = Prisma.TransactionClient;

export interface ProductChange {
  id: string;
  price: number;
  stock: number;
  isActive: boolean;
}

/**
 * Inside the shop request's transaction: records a fan-out for each kind of alert the change
 * fires, only when someone waits for it (one indexed EXISTS per kind). Returns the ids to
 * queue after the commit.
 */
export async function recordAlertFanouts(tx: Tx, product: ProductChange, before: { price: number; stock: number }): Promise<string[]> {
  if (!product.isActive) return [];
  const ids: string[] = [];
  if (before.stock <= 0 && product.stock > 0) {
    const waiting = await tx.productAlert.findFirst({ where: { productId: product.id, kind: 'back_in_stock', active: true }, select: { id: true } });
    if (waiting) ids.push((await tx.alertFanout.create({ data: { productId: product.id, kind: 'back_in_stock' }, select: { id: true } })).id);
  }
  if (product.price < before.price) {
    const waiting = await tx.$queryRaw<Array<{ one: number }>>`
      SELECT 1 AS one FROM product_alerts
      WHERE "productId" = ${product.id}::uuid AND kind = 'price_drop' AND active AND COALESCE("basePrice", ${before.price}::numeric) > ${product.price}::numeric
      LIMIT 1`;
    if (waiting.length) ids.push((await tx.alertFanout.create({ data: { productId: product.id, kind: 'price_drop', oldPrice: before.price, newPrice: product.price }, select: { id: true } })).id);
  }
  return ids;
}

export interface AlertFanoutDeps {
  prisma: PrismaClient;
  clock: Clock;
  /** Alerts per statement. */
  chunkSize?: number;
}

export interface FanoutOutcome {
  /** Notifications written by this run. */
  notified: number;
  /** Alerts fired by this run (a customer without a linked messenger gets none). */
  fired: number;
  /** Why nothing more was sent, when the product no longer matches the change. */
  skipped?: 'gone' | 'inactive' | 'sold_out' | 'price_back_up';
}

interface ChunkRow {
  fired: number;
  rows: Array<{ id: string; platform: Platform }>;
}

export type AlertFanoutRunner = ReturnType<typeof createAlertFanout>;

export function createAlertFanout(deps: AlertFanoutDeps) {
  const { prisma, clock } = deps;
  const chunkSize = deps.chunkSize ?? 5000;

  async function backInStockChunk(fanoutId: string, productId: string): Promise<ChunkRow> {
    const now = clock.now();
    const [row] = await prisma.$queryRaw<ChunkRow[]>`
      WITH picked AS (
        SELECT id FROM product_alerts
        WHERE "productId" = ${productId}::uuid AND kind = 'back_in_stock' AND active
        ORDER BY id LIMIT ${chunkSize} FOR UPDATE SKIP LOCKED
      ), fired AS (
        UPDATE product_alerts a SET active = false, "lastFiredAt" = ${now} FROM picked WHERE a.id = picked.id
        RETURNING a.id, a."customerId"
      ), inserted AS (
        INSERT INTO notifications (id, "dedupKey", kind, "customerId", "identityId", payload, status, attempts, "createdAt", "updatedAt")
        SELECT gen_random_uuid(), 'back-in-stock:' || f.id || ':' || ${fanoutId} || ':' || ci.id, 'back-in-stock', f."customerId", ci.id,
               jsonb_build_object('productId', ${productId}::text, 'alertId', f.id::text), 'pending', 0, ${now}, ${now}
        FROM fired f
        JOIN customers c ON c.id = f."customerId" AND c."notifyStockAlerts"
        JOIN channel_identities ci ON ci."customerId" = f."customerId" AND ci."blockedAt" IS NULL
        ON CONFLICT ("dedupKey") DO NOTHING
        RETURNING id, "identityId"
      )
      SELECT (SELECT count(*) FROM fired)::int AS fired,
             COALESCE((SELECT json_agg(json_build_object('id', i.id, 'platform', ci.platform)) FROM inserted i JOIN channel_identities ci ON ci.id = i."identityId"), '[]'::json) AS rows`;
    return row ?? { fired: 0, rows: [] };
  }

  async function priceDropChunk(fanoutId: string, productId: string, oldPrice: number, newPrice: number): Promise<ChunkRow> {
    const now = clock.now();
    const priceKey = newPrice.toFixed(2);
    const [row] = await prisma.$queryRaw<ChunkRow[]>`
      WITH picked AS (
        SELECT id, COALESCE("basePrice", ${oldPrice}::numeric) AS base FROM product_alerts
        WHERE "productId" = ${productId}::uuid AND kind = 'price_drop' AND active AND COALESCE("basePrice", ${oldPrice}::numeric) > ${newPrice}::numeric
        ORDER BY id LIMIT ${chunkSize} FOR UPDATE SKIP LOCKED
      ), fired AS (
        UPDATE product_alerts a SET "basePrice" = ${newPrice}::numeric, "lastFiredAt" = ${now} FROM picked WHERE a.id = picked.id
        RETURNING a.id, a."customerId", picked.base
      ), inserted AS (
        INSERT INTO notifications (id, "dedupKey", kind, "customerId", "identityId", payload, status, attempts, "createdAt", "updatedAt")
        SELECT gen_random_uuid(), 'price-drop:' || f.id || ':' || ${priceKey} || ':' || ci.id, 'price-drop', f."customerId", ci.id,
               jsonb_build_object('productId', ${productId}::text, 'alertId', f.id::text, 'oldPrice', f.base::float8, 'newPrice', ${newPrice}::float8), 'pending', 0, ${now}, ${now}
        FROM fired f
        JOIN customers c ON c.id = f."customerId" AND c."notifyStockAlerts"
        JOIN channel_identities ci ON ci."customerId" = f."customerId" AND ci."blockedAt" IS NULL
        ON CONFLICT ("dedupKey") DO NOTHING
        RETURNING id, "identityId"
      )
      SELECT (SELECT count(*) FROM fired)::int AS fired,
             COALESCE((SELECT json_agg(json_build_object('id', i.id, 'platform', ci.platform)) FROM inserted i JOIN channel_identities ci ON ci.id = i."identityId"), '[]'::json) AS rows`;
    void fanoutId;
    return row ?? { fired: 0, rows: [] };
  }

  return {
    /**
     * Runs one fan-out to the end (or continues one a crash interrupted). `onChunk` gets each
     * committed chunk's notifications to queue. A product that no longer matches the change
     * (sold out again, deactivated, price back up) fires nothing more; its alerts stay armed.
     */
    async run(fanoutId: string, onChunk: (rows: PendingNotification[]) => Promise<void>): Promise<FanoutOutcome> {
      const fanout = await prisma.alertFanout.findUnique({ where: { id: fanoutId } });
      if (!fanout || fanout.finishedAt) return { notified: 0, fired: 0 };
      const outcome: FanoutOutcome = { notified: 0, fired: 0 };
      const product = await prisma.product.findUnique({ where: { id: fanout.productId }, select: { price: true, stock: true, isActive: true } });
      const newPrice = fanout.newPrice === null ? null : Number(fanout.newPrice);
      if (!product) outcome.skipped = 'gone';
      else if (!product.isActive) outcome.skipped = 'inactive';
      else if (fanout.kind === 'back_in_stock' && product.stock <= 0) outcome.skipped = 'sold_out';
      else if (fanout.kind === 'price_drop' && (newPrice === null || Number(product.price) > newPrice)) outcome.skipped = 'price_back_up';
      if (!outcome.skipped) {
        for (;;) {
          const chunk = fanout.kind === 'back_in_stock'
            ? await backInStockChunk(fanout.id, fanout.productId)
            : await priceDropChunk(fanout.id, fanout.productId, Number(fanout.oldPrice), newPrice!);
          outcome.fired += chunk.fired;
          outcome.notified += chunk.rows.length;
          if (chunk.rows.length) {
            await prisma.alertFanout.update({ where: { id: fanout.id }, data: { notified: { increment: chunk.rows.length } } });
            await onChunk(chunk.rows);
          }
          if (chunk.fired < chunkSize) break;
        }
      }
      await prisma.alertFanout.update({ where: { id: fanout.id }, data: { finishedAt: clock.now() } });
      return outcome;
    },

    /** Fan-outs not finished and older than `olderThan` (their job was lost): for the sweeper. */
    async unfinished(olderThan: Date, limit = 100): Promise<string[]> {
      const rows = await prisma.alertFanout.findMany({ where: { finishedAt: null, createdAt: { lt: olderThan } }, select: { id: true }, orderBy: { createdAt: 'asc' }, take: limit });
      return rows.map((r) => r.id);
    },
  };
}
