/**
 * Mirroring what the shop's backend says: customers, products, orders and their status
 * changes. Every write runs inside the caller's transaction (with the ProcessedEvent row,
 * see processed-events.ts) and returns what must be queued after the commit: notifications
 * to customers and alert fan-outs (alert-fanout.ts). Batch imports run in chunks, one
 * transaction per chunk, with a per-item error report.
 *
 * Shops send in parallel: first sight of a customer, product or order number is an
 * `INSERT ... ON CONFLICT DO NOTHING` followed by a read, so concurrent requests meet on one
 * row instead of failing on the unique index.
 */
import { DomainError, isDomainError } from '../../errors.js';
import { Prisma, type PrismaClient } from '../../generated/prisma/client.js';
import type { OrderStatus } from '../../generated/prisma/enums.js';
import type { Clock } from '../../infra/clock.js';
import { notifyCustomer, notifyCustomerSql, type PendingNotification } from '../../notifications/producer.js';
import { uuidV7 } from '../../lib/uuid.js';
import { normalizePhone } from '../customers/phone.js';
import { recordAlertFanouts } from './alert-fanout.js';
import { alreadyClaimed, answerEventSql, claimEventSql, isRetryableRace, processOnce, storeErrorAsDomain, type EventKey, type Once } from './processed-events.js';
import type { LoyaltyLedger } from '../loyalty/ledger.js';
import type { BatchReport, CustomerInput, ItemError, OrderInput, ProductInput, StatusChangeInput } from './types.js';

type Tx = Prisma.TransactionClient;

export interface ShopSyncDeps {
  prisma: PrismaClient;
  ledger: LoyaltyLedger;
  clock: Clock;
  languages: string[];
  /** Items per transaction in batch imports. */
  chunkSize?: number;
}

export interface WriteContext {
  /** The shop's event id: the source of every deterministic key this write creates. */
  eventId: string;
  /** Initial imports do not message customers about history. */
  notify: boolean;
  /** Past orders (`history: true`): stored as they were, no points accrued, nobody told. */
  history?: boolean;
}

/** What a committed write still has to hand to the queues. */
export interface AfterWrite {
  notifications: PendingNotification[];
  fanouts: string[];
}

/** Told after each chunk of a batch how many items are done. */
export type Progress = (done: number, report: BatchReport) => Promise<void>;

export interface WriteResult<T> {
  value: T;
  notifications: PendingNotification[];
  /** Alert fan-outs recorded by this write, to queue after the commit. */
  fanouts?: string[];
}

/** Statuses after which a delivered order's points and spend are taken back. */
const REVERSING: ReadonlySet<OrderStatus> = new Set(['returned', 'cancelled']);

const money = (n: number | null | undefined) => (n === null || n === undefined ? n : Math.round(n * 100) / 100);

export type ShopSync = ReturnType<typeof createShopSync>;

export function createShopSync(deps: ShopSyncDeps) {
  const { prisma, ledger, clock } = deps;
  const chunkSize = deps.chunkSize ?? 500;

  function checkLanguage(language: string | undefined) {
    if (language !== undefined && !deps.languages.includes(language)) {
      throw new DomainError('invalid_input', `language must be one of ${deps.languages.join(', ')}`, { field: 'language' });
    }
  }

  /** Finds the customer an order belongs to; a new phone creates the customer. */
  async function resolveCustomer(tx: Tx, phone: string | undefined, externalId: string | undefined): Promise<string> {
    if (externalId) {
      const byExternal = await tx.customer.findUnique({ where: { externalId }, select: { id: true } });
      if (byExternal) return byExternal.id;
    }
    if (!phone) throw new DomainError('invalid_input', 'customerPhone is required when customerExternalId is unknown', { field: 'customerPhone' });
    let e164: string;
    try {
      e164 = normalizePhone(phone);
    } catch (err) {
      // Name the order's own field, not the customer's.
      if (isDomainError(err)) throw new DomainError(err.code, err.message, { ...err.details, field: 'customerPhone' });
      throw err;
    }
    let byPhone = await tx.customer.findUnique({ where: { phone: e164 }, select: { id: true, externalId: true } });
    if (!byPhone) {
      // A concurrent request creating the same customer makes this wait, then do nothing.
      const [created] = await tx.customer.createManyAndReturn({ data: [{ phone: e164, externalId: externalId ?? null }], skipDuplicates: true, select: { id: true } });
      if (created) return created.id;
      byPhone = await tx.customer.findUnique({ where: { phone: e164 }, select: { id: true, externalId: true } });
      if (!byPhone) throw new DomainError('conflict', 'customerExternalId belongs to a customer with another phone', { field: 'customerExternalId' });
    }
    if (externalId && !byPhone.externalId) {
      const taken = await tx.customer.findUnique({ where: { externalId }, select: { id: true } });
      if (!taken) await tx.customer.update({ where: { id: byPhone.id }, data: { externalId } });
    }
    return byPhone.id;
  }

  async function upsertCustomer(tx: Tx, input: CustomerInput): Promise<WriteResult<{ id: string; created: boolean }>> {
    checkLanguage(input.language);
    const phone = normalizePhone(input.phone);
    const find = async () =>
      (input.externalId ? await tx.customer.findUnique({ where: { externalId: input.externalId } }) : null) ??
      (await tx.customer.findUnique({ where: { phone } }));
    const data = {
      phone,
      ...(input.externalId !== undefined ? { externalId: input.externalId } : {}),
      ...(input.firstName !== undefined ? { firstName: input.firstName } : {}),
      ...(input.lastName !== undefined ? { lastName: input.lastName } : {}),
      ...(input.email !== undefined ? { email: input.email } : {}),
      ...(input.language !== undefined ? { language: input.language } : {}),
      ...(input.personalDataConsent !== undefined ? { personalDataConsent: input.personalDataConsent } : {}),
      ...(input.marketingConsent !== undefined ? { marketingConsent: input.marketingConsent } : {}),
    };
    let existing = await find();
    let customer: { id: string } | undefined;
    if (!existing) {
      // First sight, written whole: a concurrent twin waits here for the winner and then finds its row.
      [customer] = await tx.customer.createManyAndReturn({ data: [data], skipDuplicates: true, select: { id: true } });
      if (!customer) existing = await find();
    }
    if (!customer) {
      if (!existing) throw new DomainError('conflict', 'The externalId belongs to a customer with another phone', { field: 'externalId' });
      if (existing.phone !== phone) {
        const owner = await tx.customer.findUnique({ where: { phone }, select: { id: true } });
        if (owner && owner.id !== existing.id) throw new DomainError('conflict', 'The phone belongs to another customer', { field: 'phone' });
      }
      if (input.externalId && existing.externalId && existing.externalId !== input.externalId) {
        throw new DomainError('conflict', 'The phone belongs to a customer with another externalId', { field: 'externalId' });
      }
      customer = await tx.customer.update({ where: { id: existing.id }, data, select: { id: true } });
    }
    // Consent history: only changes are events.
    const consentEvents: Prisma.ConsentEventCreateManyInput[] = [];
    if (input.personalDataConsent !== undefined && input.personalDataConsent !== (existing?.personalDataConsent ?? false)) {
      consentEvents.push({ customerId: customer.id, kind: 'personal_data', granted: input.personalDataConsent, source: 'shop' });
    }
    if (input.marketingConsent !== undefined && input.marketingConsent !== (existing?.marketingConsent ?? false)) {
      consentEvents.push({ customerId: customer.id, kind: 'marketing', granted: input.marketingConsent, source: 'shop' });
    }
    if (consentEvents.length) await tx.consentEvent.createMany({ data: consentEvents });
    return { value: { id: customer.id, created: !existing }, notifications: [] };
  }

  function productData(input: ProductInput) {
    return {
      name: input.name,
      nameEn: input.nameEn ?? null,
      description: input.description ?? null,
      price: money(input.price)!,
      oldPrice: money(input.oldPrice) ?? null,
      currency: input.currency ?? 'RUB',
      stock: input.stock,
      url: input.url ?? null,
      imageUrl: input.imageUrl ?? null,
      isActive: input.isActive ?? true,
      // Only the platform adapters know it; the signed API leaves it as it is.
      ...(input.platformRef !== undefined ? { platformRef: input.platformRef } : {}),
    };
  }

  async function upsertProduct(tx: Tx, input: ProductInput, ctx: WriteContext): Promise<WriteResult<{ id: string; created: boolean }>> {
    const data = productData(input);
    // First sight: created here, or (a concurrent twin won) locked and updated below.
    const [created] = await tx.product.createManyAndReturn({ data: [{ sku: input.sku, ...data }], skipDuplicates: true, select: { id: true } });
    if (created) return { value: { id: created.id, created: true }, notifications: [] };
    const locked = await tx.$queryRaw<Array<{ id: string; price: string; stock: number }>>`
      SELECT id, price::text AS price, stock FROM products WHERE sku = ${input.sku} FOR UPDATE`;
    const before = locked[0]!;
    const product = await tx.product.update({ where: { id: before.id }, data });
    // Subscribers are told by the worker (set-based fan-out), never inside this transaction.
    const fanouts = ctx.notify ? await recordAlertFanouts(tx, { id: product.id, price: Number(product.price), stock: product.stock, isActive: product.isActive }, { price: Number(before.price), stock: before.stock }) : [];
    return { value: { id: product.id, created: false }, notifications: [], fanouts };
  }

  /** Whether a change of this status runs the loyalty ledger (in more statements of its transaction). */
  const movesPoints = (status: OrderStatus, ctx: WriteContext) => (status === 'delivered' && !ctx.history) || REVERSING.has(status);

  /**
   * The SQL of one status change, after CTEs that define `target` (the order: id, status,
   * "customerId"; empty when nothing must be written) and `cur` (whether the change is the
   * newest of the order's timeline): the status event, the order moved when current, the
   * notifications (notifyCustomerSql), then `extra` CTEs, then one row with what was written.
   */
  function statusChangeSql(head: Prisma.Sql, change: StatusChangeInput, statusEventId: string, sourceEventId: string, ctx: WriteContext, now: Date, extra: Prisma.Sql = Prisma.empty): Prisma.Sql {
    const status = Prisma.sql`${change.status}::"OrderStatus"`;
    // An absent field leaves the order's value; null clears it.
    const keep = (column: string, value: string | null | undefined) => (value === undefined ? Prisma.raw(`o."${column}"`) : Prisma.sql`${value}`);
    const told = notifyCustomerSql({
      kind: 'order-status',
      customerId: Prisma.sql`SELECT "customerId" FROM target`,
      cause: Prisma.sql`${statusEventId}::text`,
      payload: Prisma.sql`jsonb_build_object('orderId', (SELECT id::text FROM target), 'statusEventId', ${statusEventId}::text, 'status', ${change.status}::text)`,
      when: Prisma.sql`${ctx.notify} AND EXISTS (SELECT 1 FROM ev) AND (SELECT current FROM cur) AND (SELECT status FROM target) <> ${status}`,
      now,
    });
    return Prisma.sql`${head}, ev AS (
        INSERT INTO order_status_events (id, "orderId", status, "occurredAt", carrier, "trackingNumber", "trackingUrl", location, note, "sourceEventId", "createdAt")
        SELECT ${statusEventId}::uuid, t.id, ${status}, ${new Date(change.occurredAt)}, ${change.carrier ?? null}, ${change.trackingNumber ?? null}, ${change.trackingUrl ?? null}, ${change.location ?? null}, ${change.note ?? null}, ${sourceEventId}, ${now}
        FROM target t
        RETURNING id
      ), moved AS (
        UPDATE orders o SET status = ${status}, carrier = ${keep('carrier', change.carrier)}, "trackingNumber" = ${keep('trackingNumber', change.trackingNumber)}, "trackingUrl" = ${keep('trackingUrl', change.trackingUrl)}, "updatedAt" = ${now}
        FROM target t WHERE o.id = t.id AND (SELECT current FROM cur)
      ), told AS (${told})${extra}
      SELECT (SELECT count(*) FROM ev)::int AS written, (SELECT current FROM cur) AS current,
        COALESCE((SELECT json_agg(json_build_object('id', n.id::text, 'platform', i.platform::text)) FROM told n JOIN channel_identities i ON i.id = n."identityId"), '[]'::json) AS notifications`;
  }

  type StatusRow = { written: number; current: boolean; notifications: Array<{ id: string; platform: PendingNotification['platform'] }> | string };
  const notificationsOf = (row: StatusRow): PendingNotification[] => (typeof row.notifications === 'string' ? JSON.parse(row.notifications) : row.notifications);
  const newest = (order: Prisma.Sql, occurredAt: Date) => Prisma.sql`SELECT max("occurredAt") IS NULL OR ${occurredAt} >= max("occurredAt") AS current FROM order_status_events WHERE "orderId" = (${order})`;

  /**
   * Records a status change on the tracking timeline. Only the newest change (by occurredAt)
   * moves the order's current status and is announced; an older one, arriving late, only
   * fills the timeline. Delivered accrues points once; returned/cancelled after delivery
   * takes them back. The caller holds the order's row lock (FOR UPDATE), so concurrent
   * changes of one order are decided one after the other.
   *
   * One statement writes the status event, moves the order, writes the notifications and,
   * with `respond`, the event's answer for repeats; only a change that moves points goes on
   * to the ledger.
   */
  async function applyStatus(tx: Tx, orderId: string, change: StatusChangeInput, sourceEventId: string, ctx: WriteContext, respond?: EventKey): Promise<WriteResult<{ statusEventId: string; current: boolean }>> {
    const now = new Date();
    const statusEventId = uuidV7(now.getTime());
    const head = Prisma.sql`WITH target AS (SELECT id, status, "customerId" FROM orders WHERE id = ${orderId}::uuid), cur AS (${newest(Prisma.sql`SELECT id FROM target`, new Date(change.occurredAt))})`;
    const answer = respond
      ? Prisma.sql`, answered AS (${answerEventSql(respond, Prisma.sql`jsonb_build_object('ok', true, 'duplicate', false, 'statusEventId', ${statusEventId}::text, 'current', (SELECT current FROM cur))`)})`
      : Prisma.empty;
    const [row] = await tx.$queryRaw<StatusRow[]>(statusChangeSql(head, change, statusEventId, sourceEventId, ctx, now, answer));
    if (!row?.written) throw new Error(`order ${orderId} vanished under its lock`);
    const notifications = notificationsOf(row);
    if (change.status === 'delivered' && !ctx.history) {
      const accrued = await ledger.accrueDeliveredOrder(tx, orderId);
      if (accrued && ctx.notify) notifications.push(...accrued.notifications);
    } else if (REVERSING.has(change.status)) {
      await ledger.reverseOrder(tx, orderId);
    }
    return { value: { statusEventId, current: row.current }, notifications };
  }

  /**
   * A status change that moves no points, claimed and written in ONE statement (its own
   * transaction): the order is locked (FOR UPDATE) before the event is claimed, and the rest is
   * written only when the order's row is still the version the statement's snapshot read. A
   * concurrent change of the same order that committed in between makes the locked version
   * newer: then nothing is written and the caller takes the two-statement path, which decides
   * after the lock on fresh reads. Null when nothing was written (a repeat, an unknown order,
   * that race): the caller's slower path answers those.
   */
  async function statusInOneStatement(key: EventKey, number: string, change: StatusChangeInput, ctx: WriteContext): Promise<WriteResult<{ statusEventId: string; current: boolean }> | null> {
    const now = new Date();
    const statusEventId = uuidV7(now.getTime());
    const head = Prisma.sql`WITH locked AS MATERIALIZED (
        SELECT id, status, "customerId", xmin::text AS version FROM orders WHERE number = ${number} FOR UPDATE
      ), unchanged AS MATERIALIZED (
        SELECT l.id, l.status, l."customerId" FROM locked l JOIN orders o ON o.id = l.id AND o.xmin::text = l.version
      ), cur AS (${newest(Prisma.sql`SELECT id FROM unchanged`, new Date(change.occurredAt))}), claim AS (
        INSERT INTO processed_events (source, "eventId", "requestHash", response)
        SELECT ${key.source}, ${key.eventId}, ${key.requestHash}, jsonb_build_object('ok', true, 'duplicate', false, 'statusEventId', ${statusEventId}::text, 'current', c.current)
        FROM unchanged, cur c
        ON CONFLICT DO NOTHING RETURNING 1
      ), target AS (SELECT id, status, "customerId" FROM unchanged WHERE EXISTS (SELECT 1 FROM claim))`;
    try {
      const [row] = await prisma.$queryRaw<StatusRow[]>(statusChangeSql(head, change, statusEventId, ctx.eventId, ctx, now));
      if (!row?.written) return null;
      return { value: { statusEventId, current: row.current }, notifications: notificationsOf(row) };
    } catch (err) {
      if (isRetryableRace(err)) return null;
      throw storeErrorAsDomain(err) ?? err;
    }
  }

  async function upsertOrder(tx: Tx, input: OrderInput, outer: WriteContext): Promise<WriteResult<{ id: string; created: boolean }>> {
    const ctx: WriteContext = input.history ? { ...outer, notify: false, history: true } : outer;
    const customerId = await resolveCustomer(tx, input.customerPhone, input.customerExternalId);
    const placedAt = new Date(input.placedAt);
    const data = {
      customerId,
      currency: input.currency ?? 'RUB',
      itemsTotal: money(input.itemsTotal)!,
      deliveryCost: money(input.deliveryCost ?? 0)!,
      discount: money(input.discount ?? 0)!,
      pointsSpent: input.pointsSpent ?? 0,
      total: money(input.total)!,
      deliveryMethod: input.deliveryMethod ?? null,
      deliveryAddress: input.deliveryAddress ?? null,
      carrier: input.carrier ?? null,
      trackingNumber: input.trackingNumber ?? null,
      trackingUrl: input.trackingUrl ?? null,
      paymentMethod: input.paymentMethod ?? null,
      paymentStatus: input.paymentStatus ?? null,
      placedAt,
    };
    const lockOrder = async () => (await tx.$queryRaw<Array<{ id: string; status: OrderStatus; customerId: string }>>`
      SELECT id, status::text AS status, "customerId"::text AS "customerId" FROM orders WHERE number = ${input.number} FOR UPDATE`)[0];
    let existing = await lockOrder();
    const skus = [...new Set(input.items.map((i) => i.sku))];
    const products = await tx.product.findMany({ where: { sku: { in: skus } }, select: { id: true, sku: true } });
    const productBySku = new Map(products.map((p) => [p.sku, p.id]));
    const items = input.items.map((i) => ({ sku: i.sku, name: i.name, quantity: i.quantity, price: money(i.price)!, productId: productBySku.get(i.sku) ?? null }));
    let createdId: string | null = null;
    if (!existing) {
      // First sight: a concurrent twin with the same number waits here, then updates the winner's row.
      const [made] = await tx.order.createManyAndReturn({ data: [{ ...data, number: input.number, status: 'created' }], skipDuplicates: true, select: { id: true } });
      if (made) createdId = made.id;
      else existing = await lockOrder();
    }
    if (existing && existing.customerId !== customerId) throw new DomainError('conflict', 'The order belongs to another customer', { field: 'number' });
    const notifications: PendingNotification[] = [];
    const sourceEventId = `${ctx.eventId}/${input.number}`;
    let orderId: string;
    if (existing) {
      orderId = existing.id;
      await tx.order.update({ where: { id: orderId }, data });
      await tx.orderItem.deleteMany({ where: { orderId } });
      await tx.orderItem.createMany({ data: items.map((i) => ({ ...i, orderId })) });
      if (existing.status !== input.status) {
        const r = await applyStatus(tx, orderId, { status: input.status, occurredAt: clock.now().toISOString(), carrier: input.carrier, trackingNumber: input.trackingNumber, trackingUrl: input.trackingUrl }, sourceEventId, ctx);
        notifications.push(...r.notifications);
      }
    } else {
      orderId = createdId!;
      await tx.orderItem.createMany({ data: items.map((i) => ({ ...i, orderId })) });
      const r = await applyStatus(tx, orderId, { status: input.status, occurredAt: placedAt.toISOString(), carrier: input.carrier, trackingNumber: input.trackingNumber, trackingUrl: input.trackingUrl }, sourceEventId, ctx);
      // A brand-new order is announced with its status even if it is "created".
      if (ctx.notify && r.value.current && input.status === 'created') {
        notifications.push(...(await notifyCustomer(tx, { customerId, kind: 'order-status', cause: r.value.statusEventId, payload: { orderId, statusEventId: r.value.statusEventId, status: input.status } })));
      }
      notifications.push(...r.notifications);
    }
    // One conditional statement: the customer's row is locked only when this order is newer.
    await tx.$executeRaw`UPDATE customers SET "lastOrderAt" = ${placedAt}, "updatedAt" = now() WHERE id = ${customerId}::uuid AND ("lastOrderAt" IS NULL OR "lastOrderAt" < ${placedAt})`;
    return { value: { id: orderId, created: !existing }, notifications };
  }

  async function changeOrderStatus(tx: Tx, number: string, change: StatusChangeInput, ctx: WriteContext): Promise<WriteResult<{ orderId: string; statusEventId: string; current: boolean }>> {
    // Locked: a concurrent change of the same order waits, then compares with this one.
    const [order] = await tx.$queryRaw<Array<{ id: string }>>`SELECT id::text FROM orders WHERE number = ${number} FOR UPDATE`;
    if (!order) throw new DomainError('not_found', `Order ${number} not found`, { field: 'number' });
    const r = await applyStatus(tx, order.id, change, ctx.eventId, ctx);
    return { value: { orderId: order.id, ...r.value }, notifications: r.notifications };
  }

  /**
   * The signed API's status change, exactly once per event. A change that moves no points is
   * one statement (statusInOneStatement). Otherwise, or when that wrote nothing: a transaction
   * that locks the order and claims the event in one statement and writes everything else in a
   * second (applyStatus, with the answer for repeats). A repeat gets the first answer; the same
   * event id with another body is a conflict; an unknown order a 404 (processOnce).
   */
  async function changeOrderStatusOnce(key: EventKey, number: string, change: StatusChangeInput, ctx: WriteContext): Promise<Once<WriteResult<{ statusEventId: string; current: boolean }>>> {
    if (!movesPoints(change.status, ctx)) {
      const done = await statusInOneStatement(key, number, change, ctx);
      if (done) return { duplicate: false, result: done };
    }
    return processOnce(prisma, key, async (tx) => {
      // The order first, then the event: the same lock order as the one-statement path.
      const [first] = await tx.$queryRaw<Array<{ claimed: number; id: string | null }>>`
        WITH o AS MATERIALIZED (SELECT id FROM orders WHERE number = ${number} FOR UPDATE), claim AS (${claimEventSql(key, Prisma.sql`o`)})
        SELECT (SELECT count(*) FROM claim)::int AS claimed, (SELECT id::text FROM o) AS id`;
      if (!first?.id) throw new DomainError('not_found', `Order ${number} not found`, { field: 'number' });
      if (!first.claimed) alreadyClaimed();
      return applyStatus(tx, first.id, change, ctx.eventId, ctx, key);
    }, { claimedByChange: true });
  }

  /** Maps an item failure to the report (domain errors and refused values carry the field). */
  function itemError(index: number, key: string | null, err: unknown): ItemError {
    const domain = isDomainError(err) ? err : storeErrorAsDomain(err);
    if (domain) return { index, key, field: typeof domain.details?.field === 'string' ? domain.details.field : null, message: domain.message };
    throw err;
  }

  /** One item in its own transaction, run again when it loses a race with a concurrent writer. */
  async function writeAlone<I>(item: I, write: (tx: Tx, item: I) => Promise<WriteResult<{ created: boolean }>>): Promise<WriteResult<{ created: boolean }>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await prisma.$transaction((tx) => write(tx, item), { timeout: 15_000, maxWait: 10_000 });
      } catch (err) {
        if (!isRetryableRace(err) || attempt >= 4) throw err;
      }
    }
  }

  /**
   * Runs `write` for each item, a chunk per transaction, each item behind a savepoint: an
   * item the domain refuses is rolled back to its savepoint and reported, and the chunk goes
   * on. A chunk that fails otherwise (a lost race) is replayed item by item, each in its own
   * transaction. `progress` hears how many items are behind after each chunk.
   */
  async function runChunks<I>(items: Array<{ index: number; item: I }>, keyOf: (item: I) => string | null, write: (tx: Tx, item: I) => Promise<WriteResult<{ created: boolean }>>, report: BatchReport, progress?: Progress): Promise<AfterWrite> {
    const after: AfterWrite = { notifications: [], fanouts: [] };
    const take = (r: WriteResult<{ created: boolean }>) => {
      if (r.value.created) report.created += 1;
      else report.updated += 1;
      after.notifications.push(...r.notifications);
      after.fanouts.push(...(r.fanouts ?? []));
    };
    for (let start = 0; start < items.length; start += chunkSize) {
      const chunk = items.slice(start, start + chunkSize);
      try {
        const { results, refused } = await prisma.$transaction(async (tx) => {
          const out: Array<WriteResult<{ created: boolean }>> = [];
          const bad: ItemError[] = [];
          for (const { index, item } of chunk) {
            await tx.$executeRawUnsafe('SAVEPOINT batch_item');
            try {
              out.push(await write(tx, item));
              await tx.$executeRawUnsafe('RELEASE SAVEPOINT batch_item');
            } catch (err) {
              // Not an item's own fault (a race, a lost connection): the chunk is replayed below.
              if (!isDomainError(err) && !storeErrorAsDomain(err)) throw err;
              await tx.$executeRawUnsafe('ROLLBACK TO SAVEPOINT batch_item');
              bad.push(itemError(index, keyOf(item), err));
            }
          }
          return { results: out, refused: bad };
        }, { timeout: 120_000, maxWait: 10_000 });
        results.forEach(take);
        report.errors.push(...refused);
      } catch {
        for (const { index, item } of chunk) {
          try {
            take(await writeAlone(item, write));
          } catch (err) {
            report.errors.push(itemError(index, keyOf(item), err));
          }
        }
      }
      await progress?.(Math.min(items.length, start + chunk.length), report);
    }
    return after;
  }

  return {
    upsertCustomer,
    upsertProduct,
    upsertOrder,
    changeOrderStatus,
    changeOrderStatusOnce,

    /**
     * Catalog import. New products go in with one INSERT per chunk; existing ones are updated
     * one by one (a restock or price drop records an alert fan-out). Items must be unique by
     * sku (the API refuses repeats within a batch before calling this).
     */
    async importProducts(items: Array<{ index: number; item: ProductInput }>, ctx: WriteContext, report: BatchReport, progress?: Progress): Promise<AfterWrite> {
      const after: AfterWrite = { notifications: [], fanouts: [] };
      for (let start = 0; start < items.length; start += chunkSize) {
        const chunk = items.slice(start, start + chunkSize);
        const existing = await prisma.product.findMany({ where: { sku: { in: chunk.map((c) => c.item.sku) } }, select: { sku: true } });
        const known = new Set(existing.map((p) => p.sku));
        const fresh = chunk.filter((c) => !known.has(c.item.sku));
        const stale = chunk.filter((c) => known.has(c.item.sku));
        if (fresh.length) {
          const created = await prisma.product.createManyAndReturn({ data: fresh.map((c) => ({ sku: c.item.sku, ...productData(c.item) })), skipDuplicates: true, select: { sku: true } });
          report.created += created.length;
          // Lost a race with another writer: those are updates.
          const made = new Set(created.map((p) => p.sku));
          stale.push(...fresh.filter((c) => !made.has(c.item.sku)));
        }
        if (stale.length) {
          const sub: BatchReport = { ...report, created: 0, updated: 0, errors: [] };
          const r = await runChunks(stale, (p) => p.sku, (tx, item) => upsertProduct(tx, item, ctx), sub);
          after.notifications.push(...r.notifications);
          after.fanouts.push(...r.fanouts);
          report.updated += sub.updated + sub.created;
          report.errors.push(...sub.errors);
        }
        await progress?.(Math.min(items.length, start + chunk.length), report);
      }
      return after;
    },

    async importOrders(items: Array<{ index: number; item: OrderInput }>, ctx: WriteContext, report: BatchReport, progress?: Progress): Promise<AfterWrite> {
      return runChunks(items, (o) => o.number, (tx, item) => upsertOrder(tx, item, ctx), report, progress);
    },

    async importCustomers(items: Array<{ index: number; item: CustomerInput }>, report: BatchReport, progress?: Progress): Promise<AfterWrite> {
      return runChunks(items, (c) => c.externalId ?? null, (tx, item) => upsertCustomer(tx, item), report, progress);
    },
  };
}
