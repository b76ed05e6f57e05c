/**
 * The shop backend's API at /api/v1: signed (Kabinet-Signature over the raw body, checked
 * before anything is parsed into the domain), idempotent by event id, TypeBox schemas on
 * every route. Handlers are thin: verify, call shop-sync or the ledger inside processOnce,
 * queue what the commit produced, answer.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type TObject } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { normalizePhone } from '../../domain/customers/phone.js';
import type { LoyaltyLedger } from '../../domain/loyalty/ledger.js';
import { hashBody, isProcessed, markProcessed, processOnce, type EventKey } from '../../domain/shop-sync/processed-events.js';
import type { ShopSync } from '../../domain/shop-sync/shop-sync.js';
import type { BatchReport, CustomerInput, OrderInput, ProductInput } from '../../domain/shop-sync/types.js';
import { DomainError, isDomainError } from '../../errors.js';
import type { PrismaClient } from '../../generated/prisma/client.js';
import type { Clock } from '../../infra/clock.js';
import { verifySignature, SIGNATURE_HEADER } from '../../lib/signature.js';
import type { NotificationDispatcher } from '../../notifications/send-queue.js';
import type { PendingNotification } from '../../notifications/producer.js';
import { stripNul } from '../../lib/strip-nul.js';
import {
  BalanceAnswer, BatchAnswer, BatchEnvelope, CustomerRef, CustomerSchema, Envelope, ErrorAnswer, EventId, LoyaltyChangeSchema, OrderSchema, ProductSchema, StatusChangeSchema, WriteAnswer,
} from './schemas.js';

export interface ShopApiOptions {
  prisma: PrismaClient;
  sync: ShopSync;
  ledger: LoyaltyLedger;
  notifications: Pick<NotificationDispatcher, 'dispatch'>;
  clock: Clock;
  /** Undefined: the API answers 503 (not configured) to everything. */
  secret: string | undefined;
  toleranceSeconds: number;
  /** Batch routes only; the rest keep the app's limit. Default 64 MiB. */
  batchBodyLimitBytes?: number;
  /** Items per batch call. Default 10 000. */
  batchMaxItems?: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: string;
    jsonError?: string;
    unsupportedMediaType?: boolean;
  }
}

const SOURCE = 'shop';
const security = [{ shopSignature: [] }];
const errors = { 400: ErrorAnswer, 401: ErrorAnswer, 404: ErrorAnswer, 409: ErrorAnswer, 503: ErrorAnswer };

/**
 * Domain errors name a field of the entity ("phone"); the answer names it where it is in the
 * body ("customer.phone"), as schema validation does.
 */
async function within<R>(key: string, work: () => Promise<R>): Promise<R> {
  try {
    return await work();
  } catch (err) {
    const field = isDomainError(err) ? err.details?.field : undefined;
    if (isDomainError(err) && typeof field === 'string' && !field.startsWith(`${key}.`)) throw new DomainError(err.code, err.message, { ...err.details, field: `${key}.${field}` });
    throw err;
  }
}

/** "/price" → "price", "/items/3/sku" → "items.3.sku". */
const fieldOf = (path: string) => path.replace(/^\//, '').replace(/\//g, '.') || null;

export const shopApiPlugin: FastifyPluginAsync<ShopApiOptions> = async (parent, opts) => {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const batchMax = opts.batchMaxItems ?? 10_000;
  const batchLimit = opts.batchBodyLimitBytes ?? 64 * 1024 * 1024;

  // Keep the raw body: the signature covers the exact bytes the shop sent. A body that is
  // not JSON (by syntax or by media type) is not refused here, so an unsigned one still gets
  // 401, and a signed one 400 (bad JSON) or 415 (another media type) from the hook below.
  // Fastify's own text/plain parser is removed: it would hand a string to the routes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
    request.rawBody = body as string;
    request.unsupportedMediaType = true;
    done(null, undefined);
  });
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const raw = body as string;
    request.rawBody = raw;
    if (raw.length === 0) return done(null, undefined);
    try {
      // NUL out of every text (PostgreSQL refuses it); the signature covers the raw bytes.
      done(null, stripNul(JSON.parse(raw)));
    } catch (err) {
      request.jsonError = (err as Error).message;
      done(null, undefined);
    }
  });

  app.addHook('preValidation', async (request: FastifyRequest) => {
    if (!opts.secret) throw new DomainError('unavailable', 'The shop API is not configured (SHOP_API_SECRET)');
    const check = verifySignature({
      secret: opts.secret,
      header: request.headers[SIGNATURE_HEADER.toLowerCase()] as string | undefined,
      rawBody: request.rawBody ?? '',
      toleranceSeconds: opts.toleranceSeconds,
      now: opts.clock.now(),
    });
    if (!check.ok) {
      const why = { missing: 'Missing Kabinet-Signature header', malformed: 'Malformed Kabinet-Signature header', stale: 'Signature timestamp is outside the tolerance window', mismatch: 'Signature does not match' }[check.problem];
      throw new DomainError('unauthorized', why, { reason: check.problem });
    }
    if (request.unsupportedMediaType) throw Object.assign(new Error('Content-Type must be application/json'), { statusCode: 415, code: 'unsupported_media_type' });
    if (request.jsonError) throw new DomainError('invalid_input', `Body is not valid JSON: ${request.jsonError}`, { field: 'body' });
  });

  const keyOf = (request: FastifyRequest, eventId: string): EventKey => ({ source: SOURCE, eventId, requestHash: hashBody(request.rawBody ?? '') });
  const afterCommit = async (notifications: PendingNotification[]) => {
    if (notifications.length) await opts.notifications.dispatch(notifications);
  };

  async function findCustomerId(ref: { phone?: string; externalId?: string }): Promise<string> {
    const where = ref.externalId ? { externalId: ref.externalId } : ref.phone ? { phone: normalizePhone(ref.phone) } : null;
    if (!where) throw new DomainError('invalid_input', 'customer.phone or customer.externalId is required', { field: 'customer' });
    const customer = await opts.prisma.customer.findUnique({ where, select: { id: true } });
    if (!customer) throw new DomainError('not_found', 'Customer not found', { field: 'customer' });
    return customer.id;
  }

  app.post('/customers', {
    schema: { tags: ['shop'], summary: 'Create or update a customer', security, body: Envelope('customer', CustomerSchema), response: { 200: WriteAnswer, ...errors } },
  }, async (request) => {
    const { eventId, customer } = request.body;
    const r = await processOnce(opts.prisma, keyOf(request, eventId), (tx) => within('customer', () => opts.sync.upsertCustomer(tx, customer)));
    if (r.duplicate) return { ok: true, duplicate: true };
    return { ok: true, duplicate: false, id: r.result.value.id, created: r.result.value.created };
  });

  app.post('/products', {
    schema: { tags: ['shop'], summary: 'Create or update a product (fires back-in-stock and price-drop alerts)', security, body: Envelope('product', ProductSchema), response: { 200: WriteAnswer, ...errors } },
  }, async (request) => {
    const { eventId, product } = request.body;
    const r = await processOnce(opts.prisma, keyOf(request, eventId), (tx) => within('product', () => opts.sync.upsertProduct(tx, product, { eventId, notify: true })));
    if (r.duplicate) return { ok: true, duplicate: true };
    await afterCommit(r.result.notifications);
    return { ok: true, duplicate: false, id: r.result.value.id, created: r.result.value.created };
  });

  app.post('/orders', {
    schema: { tags: ['shop'], summary: 'Create or update an order with its items', security, body: Envelope('order', OrderSchema), response: { 200: WriteAnswer, ...errors } },
  }, async (request) => {
    const { eventId, order } = request.body;
    if (!order.customerPhone && !order.customerExternalId) throw new DomainError('invalid_input', 'order.customerPhone or order.customerExternalId is required', { field: 'order.customerPhone' });
    const r = await processOnce(opts.prisma, keyOf(request, eventId), (tx) => within('order', () => opts.sync.upsertOrder(tx, order, { eventId, notify: true })));
    if (r.duplicate) return { ok: true, duplicate: true };
    await afterCommit(r.result.notifications);
    return { ok: true, duplicate: false, id: r.result.value.id, created: r.result.value.created };
  });

  app.post('/orders/:number/status', {
    schema: {
      tags: ['shop'],
      summary: 'An order status change (tracking timeline); notifies the customer',
      security,
      params: Type.Object({ number: Type.String({ minLength: 1, maxLength: 64 }) }),
      body: StatusChangeSchema,
      response: { 200: Type.Object({ ok: Type.Boolean(), duplicate: Type.Boolean(), statusEventId: Type.Optional(Type.String()), current: Type.Optional(Type.Boolean()) }), ...errors },
    },
  }, async (request) => {
    const { number } = request.params;
    const { eventId, ...change } = request.body;
    const r = await processOnce(opts.prisma, keyOf(request, eventId), (tx) => opts.sync.changeOrderStatus(tx, number, change, { eventId, notify: true }));
    if (r.duplicate) return { ok: true, duplicate: true };
    await afterCommit(r.result.notifications);
    return { ok: true, duplicate: false, statusEventId: r.result.value.statusEventId, current: r.result.value.current };
  });

  app.post('/loyalty/transactions', {
    schema: {
      tags: ['shop', 'loyalty'],
      summary: 'Redeem points at checkout or adjust them',
      security,
      body: LoyaltyChangeSchema,
      response: { 200: Type.Object({ ok: Type.Boolean(), duplicate: Type.Boolean(), transactionId: Type.Optional(Type.String()), points: Type.Optional(Type.Integer()), balance: Type.Optional(Type.Integer()) }), ...errors },
    },
  }, async (request) => {
    const body = request.body;
    if (body.kind === 'redemption' && body.points <= 0) throw new DomainError('invalid_input', 'points must be positive for a redemption', { field: 'points' });
    const customerId = await findCustomerId(body.customer);
    let orderId: string | null = null;
    if (body.orderNumber) {
      // A points change tied to an order that does not exist, or is another customer's, is a
      // mistake in the shop's request: refuse it rather than store it unlinked.
      const order = await opts.prisma.order.findUnique({ where: { number: body.orderNumber }, select: { id: true, customerId: true } });
      if (!order || order.customerId !== customerId) throw new DomainError('invalid_input', "orderNumber is not one of this customer's orders", { field: 'orderNumber' });
      orderId = order.id;
    }
    const r = await processOnce(opts.prisma, keyOf(request, body.eventId), (tx) =>
      opts.ledger.applyShopChange(tx, { customerId, kind: body.kind, points: body.points, reason: body.reason, orderId, externalId: `shop:${body.eventId}` }),
    );
    if (r.duplicate) return { ok: true, duplicate: true };
    return { ok: true, duplicate: false, transactionId: r.result.transactionId, points: r.result.points, balance: r.result.balance };
  });

  app.post('/loyalty/balance', {
    schema: {
      tags: ['shop', 'loyalty'],
      summary: "A customer's points balance, tier and next tier (for checkout). POST so the phone stays out of URLs and inside the signature.",
      security,
      body: Type.Object({ customer: CustomerRef }, { additionalProperties: false }),
      response: { 200: BalanceAnswer, ...errors },
    },
  }, async (request) => {
    const { customer } = request.body;
    return opts.ledger.balance(opts.prisma, await findCustomerId(customer));
  });

  // ───── batches: the envelope is validated by the route, each item on its own ─────
  function batchRoute<I>(path: string, itemSchema: TObject, summary: string, run: (items: Array<{ index: number; item: I }>, eventId: string, report: BatchReport) => Promise<PendingNotification[]>, keyOfItem: (item: Record<string, unknown>) => string | null) {
    const itemCheck = TypeCompiler.Compile(itemSchema);
    const envelope = Type.Object({ eventId: EventId, items: Type.Array(Type.Unknown(), { minItems: 1, maxItems: batchMax }) }, { additionalProperties: false });
    const envelopeCheck = TypeCompiler.Compile(envelope);
    app.post(path, {
      bodyLimit: batchLimit,
      schema: { tags: ['shop', 'import'], summary, description: `Up to ${batchMax} items. Each item is validated and written on its own; refused items are listed in \`errors\` by index.`, security, body: BatchEnvelope(itemSchema, batchMax), response: { 200: BatchAnswer, ...errors } },
      // The documented schema is per item; validating it as a whole would refuse a batch for one bad item.
      validatorCompiler: () => (data: unknown) => {
        if (envelopeCheck.Check(data)) return { value: data };
        const first = envelopeCheck.Errors(data).First();
        return { error: Object.assign(new Error(`body${first?.path.replace(/\//g, '.') ?? ''} ${first?.message ?? 'is invalid'}`), { validation: [{ instancePath: first?.path ?? '', message: first?.message ?? 'invalid', params: {} }] }) };
      },
    }, async (request) => {
      // The custom validator above checked only the envelope; items are checked one by one.
      const { eventId, items } = request.body as { eventId: string; items: unknown[] };
      const key = keyOf(request, eventId);
      if (await isProcessed(opts.prisma, key)) return { ok: true, duplicate: true };
      const report: BatchReport = { received: items.length, created: 0, updated: 0, unchanged: 0, failed: 0, errors: [] };
      const valid: Array<{ index: number; item: I }> = [];
      items.forEach((item, index) => {
        if (itemCheck.Check(item)) valid.push({ index, item: item as I });
        else {
          const e = itemCheck.Errors(item).First();
          const k = item && typeof item === 'object' ? keyOfItem(item as Record<string, unknown>) : null;
          report.errors.push({ index, key: k, field: e ? fieldOf(e.path) : null, message: e?.message ?? 'invalid item' });
        }
      });
      const pending = await run(valid, eventId, report);
      await markProcessed(opts.prisma, key);
      await afterCommit(pending);
      report.errors.sort((a, b) => a.index - b.index);
      report.failed = report.errors.length;
      return { ok: report.failed === 0, duplicate: false, received: report.received, created: report.created, updated: report.updated, failed: report.failed, errors: report.errors };
    });
  }

  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  batchRoute<ProductInput>('/products/batch', ProductSchema, 'Import up to 10,000 products in one call', (items, eventId, report) => opts.sync.importProducts(items, { eventId, notify: true }, report), (i) => str(i.sku));
  batchRoute<OrderInput>('/orders/batch', OrderSchema, 'Import up to 10,000 orders in one call (no customer messages)', (items, eventId, report) => {
    const ok: typeof items = [];
    for (const entry of items) {
      if (entry.item.customerPhone || entry.item.customerExternalId) ok.push(entry);
      else report.errors.push({ index: entry.index, key: entry.item.number, field: 'customerPhone', message: 'customerPhone or customerExternalId is required' });
    }
    return opts.sync.importOrders(ok, { eventId, notify: false }, report);
  }, (i) => str(i.number));
  batchRoute<CustomerInput>('/customers/batch', CustomerSchema, 'Import up to 10,000 customers in one call', async (items, _eventId, report) => {
    await opts.sync.importCustomers(items, report);
    return [];
  }, (i) => str(i.externalId));
};
