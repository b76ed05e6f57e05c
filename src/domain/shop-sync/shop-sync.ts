/**
 * Mirroring what the shop's backend says: customers, products, orders and their status
 * changes. Every write runs inside the caller's transaction (with the ProcessedEvent row,
 * see processed-events.ts) and returns what must be queued after the commit: notifications
 * to customers and nothing else. Batch imports run in chunks, one transaction per chunk,
 * with a per-item error report.
 */
import { DomainError, isDomainError } from '../../errors.js';
import type { Prisma, PrismaClient } from '../../generated/prisma/client.js';
import type { OrderStatus } from '../../generated/prisma/enums.js';
import type { Clock } from '../../infra/clock.js';
import { notifyCustomer, type PendingNotification } from '../../notifications/producer.js';
import { normalizePhone } from '../customers/phone.js';
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
}

export interface WriteResult<T> {
  value: T;
  notifications: PendingNotification[];
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
    const byPhone = await tx.customer.findUnique({ where: { phone: e164 }, select: { id: true, externalId: true } });
    if (byPhone) {
      if (externalId && !byPhone.externalId) await tx.customer.update({ where: { id: byPhone.id }, data: { externalId } });
      return byPhone.id;
    }
    const created = await tx.customer.create({ data: { phone: e164, externalId: externalId ?? null }, select: { id: true } });
    return created.id;
  }

  async function upsertCustomer(tx: Tx, input: CustomerInput): Promise<WriteResult<{ id: string; created: boolean }>> {
    checkLanguage(input.language);
    const phone = normalizePhone(input.phone);
    const existing =
      (input.externalId ? await tx.customer.findUnique({ where: { externalId: input.externalId } }) : null) ??
      (await tx.customer.findUnique({ where: { phone } }));
    if (existing && existing.phone !== phone) {
      const owner = await tx.customer.findUnique({ where: { phone }, select: { id: true } });
      if (owner && owner.id !== existing.id) throw new DomainError('conflict', 'The phone belongs to another customer', { field: 'phone' });
    }
    if (existing && input.externalId && existing.externalId && existing.externalId !== input.externalId) {
      throw new DomainError('conflict', 'The phone belongs to a customer with another externalId', { field: 'externalId' });
    }
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
    const customer = existing ? await tx.customer.update({ where: { id: existing.id }, data }) : await tx.customer.create({ data });
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

  /** Fires back-in-stock and price-drop alerts for a product that changed. */
  async function fireAlerts(tx: Tx, ctx: WriteContext, product: { id: string; price: number; stock: number; isActive: boolean }, before: { price: number; stock: number } | null): Promise<PendingNotification[]> {
    if (!before || !ctx.notify || !product.isActive) return [];
    const out: PendingNotification[] = [];
    const now = clock.now();
    if (before.stock <= 0 && product.stock > 0) {
      const alerts = await tx.productAlert.findMany({ where: { productId: product.id, kind: 'back_in_stock', active: true }, select: { id: true, customerId: true } });
      for (const alert of alerts) {
        // One-shot: the flip from active is the guard, so a replay or a race fires once.
        const flipped = await tx.productAlert.updateMany({ where: { id: alert.id, active: true }, data: { active: false, lastFiredAt: now } });
        if (flipped.count === 0) continue;
        out.push(...(await notifyCustomer(tx, { customerId: alert.customerId, kind: 'back-in-stock', cause: `${alert.id}:${ctx.eventId}`, payload: { productId: product.id, alertId: alert.id } })));
      }
    }
    if (product.price < before.price) {
      const alerts = await tx.productAlert.findMany({ where: { productId: product.id, kind: 'price_drop', active: true }, select: { id: true, customerId: true, basePrice: true } });
      for (const alert of alerts) {
        const base = alert.basePrice === null ? before.price : Number(alert.basePrice);
        if (product.price >= base) continue;
        // The new price becomes the base: the next drop below it notifies again.
        await tx.productAlert.update({ where: { id: alert.id }, data: { basePrice: product.price, lastFiredAt: now } });
        out.push(...(await notifyCustomer(tx, { customerId: alert.customerId, kind: 'price-drop', cause: `${alert.id}:${product.price.toFixed(2)}`, payload: { productId: product.id, alertId: alert.id, oldPrice: base, newPrice: product.price } })));
      }
    }
    return out;
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
    const locked = await tx.$queryRaw<Array<{ id: string; price: string; stock: number }>>`
      SELECT id, price::text AS price, stock FROM products WHERE sku = ${input.sku} FOR UPDATE`;
    const before = locked[0];
    const data = productData(input);
    const product = before
      ? await tx.product.update({ where: { id: before.id }, data })
      : await tx.product.create({ data: { sku: input.sku, ...data } });
    const notifications = await fireAlerts(tx, ctx, { id: product.id, price: Number(product.price), stock: product.stock, isActive: product.isActive }, before ? { price: Number(before.price), stock: before.stock } : null);
    return { value: { id: product.id, created: !before }, notifications };
  }

  /**
   * Records a status change on the tracking timeline. Only the newest change (by occurredAt)
   * moves the order's current status and is announced; an older one, arriving late, only
   * fills the timeline. Delivered accrues points once; returned/cancelled after delivery
   * takes them back.
   */
  async function applyStatus(tx: Tx, orderId: string, change: StatusChangeInput, sourceEventId: string, ctx: WriteContext): Promise<WriteResult<{ statusEventId: string; current: boolean }>> {
    const occurredAt = new Date(change.occurredAt);
    const order = await tx.order.findUniqueOrThrow({ where: { id: orderId }, select: { customerId: true, status: true } });
    const latest = await tx.orderStatusEvent.findFirst({ where: { orderId }, orderBy: [{ occurredAt: 'desc' }, { createdAt: 'desc' }], select: { occurredAt: true } });
    const event = await tx.orderStatusEvent.create({
      data: {
        orderId,
        status: change.status,
        occurredAt,
        carrier: change.carrier ?? null,
        trackingNumber: change.trackingNumber ?? null,
        trackingUrl: change.trackingUrl ?? null,
        location: change.location ?? null,
        note: change.note ?? null,
        sourceEventId,
      },
    });
    const current = !latest || occurredAt >= latest.occurredAt;
    const notifications: PendingNotification[] = [];
    if (current) {
      await tx.order.update({
        where: { id: orderId },
        data: {
          status: change.status,
          ...(change.carrier !== undefined ? { carrier: change.carrier } : {}),
          ...(change.trackingNumber !== undefined ? { trackingNumber: change.trackingNumber } : {}),
          ...(change.trackingUrl !== undefined ? { trackingUrl: change.trackingUrl } : {}),
        },
      });
      if (ctx.notify && change.status !== order.status) {
        notifications.push(...(await notifyCustomer(tx, { customerId: order.customerId, kind: 'order-status', cause: event.id, payload: { orderId, statusEventId: event.id, status: change.status } })));
      }
    }
    if (change.status === 'delivered') {
      const accrued = await ledger.accrueDeliveredOrder(tx, orderId);
      if (accrued && ctx.notify) notifications.push(...accrued.notifications);
    } else if (REVERSING.has(change.status)) {
      await ledger.reverseOrder(tx, orderId);
    }
    return { value: { statusEventId: event.id, current }, notifications };
  }

  async function upsertOrder(tx: Tx, input: OrderInput, ctx: WriteContext): Promise<WriteResult<{ id: string; created: boolean }>> {
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
    const existing = await tx.order.findUnique({ where: { number: input.number }, select: { id: true, status: true, customerId: true } });
    if (existing && existing.customerId !== customerId) throw new DomainError('conflict', 'The order belongs to another customer', { field: 'number' });
    const skus = [...new Set(input.items.map((i) => i.sku))];
    const products = await tx.product.findMany({ where: { sku: { in: skus } }, select: { id: true, sku: true } });
    const productBySku = new Map(products.map((p) => [p.sku, p.id]));
    const items = input.items.map((i) => ({ sku: i.sku, name: i.name, quantity: i.quantity, price: money(i.price)!, productId: productBySku.get(i.sku) ?? null }));
    let orderId: string;
    const notifications: PendingNotification[] = [];
    if (existing) {
      orderId = existing.id;
      await tx.order.update({ where: { id: orderId }, data });
      await tx.orderItem.deleteMany({ where: { orderId } });
      await tx.orderItem.createMany({ data: items.map((i) => ({ ...i, orderId })) });
      if (existing.status !== input.status) {
        const r = await applyStatus(tx, orderId, { status: input.status, occurredAt: clock.now().toISOString(), carrier: input.carrier, trackingNumber: input.trackingNumber, trackingUrl: input.trackingUrl }, `${ctx.eventId}/${input.number}`, ctx);
        notifications.push(...r.notifications);
      }
    } else {
      const order = await tx.order.create({ data: { ...data, number: input.number, status: 'created', items: { createMany: { data: items } } } });
      orderId = order.id;
      const r = await applyStatus(tx, orderId, { status: input.status, occurredAt: placedAt.toISOString(), carrier: input.carrier, trackingNumber: input.trackingNumber, trackingUrl: input.trackingUrl }, `${ctx.eventId}/${input.number}`, { ...ctx, notify: ctx.notify });
      // A brand-new order is announced with its status even if it is "created".
      if (ctx.notify && r.value.current && input.status === 'created') {
        notifications.push(...(await notifyCustomer(tx, { customerId, kind: 'order-status', cause: r.value.statusEventId, payload: { orderId, statusEventId: r.value.statusEventId, status: input.status } })));
      }
      notifications.push(...r.notifications);
    }
    const last = await tx.customer.findUniqueOrThrow({ where: { id: customerId }, select: { lastOrderAt: true } });
    if (!last.lastOrderAt || last.lastOrderAt < placedAt) await tx.customer.update({ where: { id: customerId }, data: { lastOrderAt: placedAt } });
    return { value: { id: orderId, created: !existing }, notifications };
  }

  async function changeOrderStatus(tx: Tx, number: string, change: StatusChangeInput, ctx: WriteContext): Promise<WriteResult<{ orderId: string; statusEventId: string; current: boolean }>> {
    const order = await tx.order.findUnique({ where: { number }, select: { id: true } });
    if (!order) throw new DomainError('not_found', `Order ${number} not found`, { field: 'number' });
    const r = await applyStatus(tx, order.id, change, ctx.eventId, ctx);
    return { value: { orderId: order.id, ...r.value }, notifications: r.notifications };
  }

  /** Maps an item failure to the report (domain errors carry the field). */
  function itemError(index: number, key: string | null, err: unknown): ItemError {
    if (isDomainError(err)) return { index, key, field: typeof err.details?.field === 'string' ? err.details.field : null, message: err.message };
    throw err;
  }

  /**
   * Runs `write` for each item, a chunk per transaction. A chunk that fails on one item is
   * replayed item by item (each in its own transaction) so the others still land and the
   * bad one is reported.
   */
  async function runChunks<I>(items: Array<{ index: number; item: I }>, keyOf: (item: I) => string | null, write: (tx: Tx, item: I) => Promise<WriteResult<{ created: boolean }>>, report: BatchReport): Promise<PendingNotification[]> {
    const pending: PendingNotification[] = [];
    for (let start = 0; start < items.length; start += chunkSize) {
      const chunk = items.slice(start, start + chunkSize);
      try {
        const results = await prisma.$transaction(async (tx) => {
          const out: Array<WriteResult<{ created: boolean }>> = [];
          for (const { item } of chunk) out.push(await write(tx, item));
          return out;
        }, { timeout: 120_000, maxWait: 10_000 });
        for (const r of results) {
          if (r.value.created) report.created += 1;
          else report.updated += 1;
          pending.push(...r.notifications);
        }
      } catch {
        for (const { index, item } of chunk) {
          try {
            const r = await prisma.$transaction((tx) => write(tx, item), { timeout: 15_000 });
            if (r.value.created) report.created += 1;
            else report.updated += 1;
            pending.push(...r.notifications);
          } catch (err) {
            report.errors.push(itemError(index, keyOf(item), err));
          }
        }
      }
    }
    return pending;
  }

  return {
    upsertCustomer,
    upsertProduct,
    upsertOrder,
    changeOrderStatus,

    /**
     * Initial catalog import. New products go in with createMany per chunk; existing ones
     * are updated one by one (they may fire alerts). Items already refused by validation
     * arrive as `invalid` and are only reported.
     */
    async importProducts(items: Array<{ index: number; item: ProductInput }>, ctx: WriteContext, report: BatchReport): Promise<PendingNotification[]> {
      const pending: PendingNotification[] = [];
      const seen = new Map<string, number>();
      const unique: typeof items = [];
      for (const entry of items) {
        const prev = seen.get(entry.item.sku);
        if (prev !== undefined) {
          report.errors.push({ index: entry.index, key: entry.item.sku, field: 'sku', message: `duplicate sku in this batch (first at item ${prev})` });
          continue;
        }
        seen.set(entry.item.sku, entry.index);
        unique.push(entry);
      }
      for (let start = 0; start < unique.length; start += chunkSize) {
        const chunk = unique.slice(start, start + chunkSize);
        const existing = await prisma.product.findMany({ where: { sku: { in: chunk.map((c) => c.item.sku) } }, select: { sku: true } });
        const known = new Set(existing.map((p) => p.sku));
        const fresh = chunk.filter((c) => !known.has(c.item.sku));
        const stale = chunk.filter((c) => known.has(c.item.sku));
        if (fresh.length) {
          const created = await prisma.product.createMany({ data: fresh.map((c) => ({ sku: c.item.sku, ...productData(c.item) })), skipDuplicates: true });
          report.created += created.count;
          // Lost a race with another writer: treat those as updates.
          if (created.count < fresh.length) stale.push(...fresh);
        }
        if (stale.length) {
          const sub: BatchReport = { ...report, created: 0, updated: 0, errors: [] };
          pending.push(...(await runChunks(stale, (p) => p.sku, (tx, item) => upsertProduct(tx, item, ctx), sub)));
          report.updated += sub.updated + sub.created;
          report.errors.push(...sub.errors);
        }
      }
      return pending;
    },

    async importOrders(items: Array<{ index: number; item: OrderInput }>, ctx: WriteContext, report: BatchReport): Promise<PendingNotification[]> {
      return runChunks(items, (o) => o.number, (tx, item) => upsertOrder(tx, item, ctx), report);
    },

    async importCustomers(items: Array<{ index: number; item: CustomerInput }>, report: BatchReport): Promise<void> {
      await runChunks(items, (c) => c.externalId ?? null, (tx, item) => upsertCustomer(tx, item), report);
    },
  };
}
