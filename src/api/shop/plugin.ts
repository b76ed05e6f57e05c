/**
 * The shop backend's API at /api/v1: signed (Kabinet-Signature over method, path and raw
 * body, checked while the body streams in and before it is parsed, see signed-body.ts),
 * idempotent by event id (a repeat gets the first answer), TypeBox schemas on every route.
 * Handlers are thin: verify, call shop-sync or the ledger inside processOnce, queue what the
 * commit produced, answer.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { normalizePhone } from '../../domain/customers/phone.js';
import type { LoyaltyLedger } from '../../domain/loyalty/ledger.js';
import type { ImportJobs } from '../../domain/shop-sync/import-jobs.js';
import { hashBody, processOnce, type EventKey } from '../../domain/shop-sync/processed-events.js';
import type { AfterWrite, ShopSync } from '../../domain/shop-sync/shop-sync.js';
import { DomainError, isDomainError } from '../../errors.js';
import type { PrismaClient } from '../../generated/prisma/client.js';
import type { Clock } from '../../infra/clock.js';
import type { Outbox } from '../../outbox/outbox.js';
import { errorResponses } from '../../server/error-answer.js';
import { registerBatchRoutes } from './batches.js';
import { stripNul } from '../../lib/strip-nul.js';
import { registerReadRoutes } from './reads.js';
import { BalanceAnswer, CustomerRef, CustomerSchema, Envelope, EventId, LoyaltyChangeSchema, OrderSchema, ProductSchema, StatusChangeSchema, TestWebhookAnswer, WriteAnswer } from './schemas.js';
import { installSignedBody } from './signed-body.js';

export interface ShopApiServices {
  sync: ShopSync;
  ledger: LoyaltyLedger;
  imports: ImportJobs;
  importQueue: { dispatch(importJobId: string): Promise<void> };
  outbox: Pick<Outbox, 'sendTest'>;
  /** Queues notifications and alert fan-outs a committed write produced. */
  afterWrite(after: AfterWrite): Promise<void>;
}

export interface ShopApiOptions {
  prisma: PrismaClient;
  services: ShopApiServices;
  clock: Clock;
  /** Accepted secrets (two while rotating). Empty: the API answers 503 (not configured) to everything. */
  secrets: readonly string[];
  toleranceSeconds: number;
  /** Cap of single routes' bodies. Default 1 MiB. */
  bodyLimitBytes?: number;
  /** Cap of batch routes' bodies. Default 32 MiB. */
  batchBodyLimitBytes?: number;
  /** Items per batch call. Default 10 000. */
  batchMaxItems?: number;
}

export const SOURCE = 'shop';
export const security = [{ shopSignature: [] }];
/** What every signed route can answer besides its own result. */
export const shopErrors = errorResponses(400, 401, 404, 409, 413, 414, 415, 500, 503);

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

export const eventKey = (request: FastifyRequest, eventId: string): EventKey => ({ source: SOURCE, eventId, requestHash: hashBody(request.rawBody ?? '') });

/** A repeat of an event: the first answer, marked as a repeat. */
export function replay<T>(response: Record<string, unknown> | null): T {
  // The stored answer has the route's own shape (it was that route's answer).
  return { ok: true, ...(response ?? {}), duplicate: true } as T;
}

export const shopApiPlugin: FastifyPluginAsync<ShopApiOptions> = async (parent, opts) => {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { services } = opts;
  const bodyLimit = opts.bodyLimitBytes ?? 1024 * 1024;
  const noAfter: AfterWrite = { notifications: [], fanouts: [] };

  installSignedBody(app, { secrets: opts.secrets, toleranceSeconds: opts.toleranceSeconds, clock: opts.clock });

  // NUL out of path parameters and query values too (the body's went at parsing, inputs.ts).
  app.addHook('preValidation', async (request) => {
    stripNul(request.params);
    stripNul(request.query);
  });

  async function findCustomerId(ref: { phone?: string; externalId?: string }): Promise<string> {
    const where = ref.externalId ? { externalId: ref.externalId } : ref.phone ? { phone: normalizePhone(ref.phone) } : null;
    if (!where) throw new DomainError('invalid_input', 'customer.phone or customer.externalId is required', { field: 'customer' });
    const customer = await opts.prisma.customer.findUnique({ where, select: { id: true } });
    if (!customer) throw new DomainError('not_found', 'Customer not found', { field: 'customer' });
    return customer.id;
  }

  const written = (v: { value: { id: string; created: boolean } }) => ({ ok: true, duplicate: false, id: v.value.id, created: v.value.created });
  const after = (r: { notifications: AfterWrite['notifications']; fanouts?: string[] }) => services.afterWrite({ notifications: r.notifications, fanouts: r.fanouts ?? [] });

  app.post('/customers', {
    bodyLimit,
    schema: { tags: ['shop'], summary: 'Create or update a customer', security, body: Envelope('customer', CustomerSchema), response: { 200: WriteAnswer, ...shopErrors } },
  }, async (request) => {
    const { eventId, customer } = request.body;
    const r = await processOnce(opts.prisma, eventKey(request, eventId), (tx) => within('customer', () => services.sync.upsertCustomer(tx, customer)), { answer: written });
    if (r.duplicate) return replay(r.response);
    return written(r.result);
  });

  app.post('/products', {
    bodyLimit,
    schema: { tags: ['shop'], summary: 'Create or update a product (a restock or price drop alerts its watchers, fanned out by the worker)', security, body: Envelope('product', ProductSchema), response: { 200: WriteAnswer, ...shopErrors } },
  }, async (request) => {
    const { eventId, product } = request.body;
    const r = await processOnce(opts.prisma, eventKey(request, eventId), (tx) => within('product', () => services.sync.upsertProduct(tx, product, { eventId, notify: true })), { answer: written });
    if (r.duplicate) return replay(r.response);
    await after(r.result);
    return written(r.result);
  });

  app.post('/orders', {
    bodyLimit,
    schema: { tags: ['shop'], summary: 'Create or update an order with its items (history: true stores a past order without points or messages)', security, body: Envelope('order', OrderSchema), response: { 200: WriteAnswer, ...shopErrors } },
  }, async (request) => {
    const { eventId, order } = request.body;
    if (!order.customerPhone && !order.customerExternalId) throw new DomainError('invalid_input', 'order.customerPhone or order.customerExternalId is required', { field: 'order.customerPhone' });
    const r = await processOnce(opts.prisma, eventKey(request, eventId), (tx) => within('order', () => services.sync.upsertOrder(tx, order, { eventId, notify: true })), { answer: written });
    if (r.duplicate) return replay(r.response);
    await after(r.result);
    return written(r.result);
  });

  const StatusAnswer = Type.Object({ ok: Type.Boolean(), duplicate: Type.Boolean(), statusEventId: Type.Optional(Type.String()), current: Type.Optional(Type.Boolean()) });
  app.post('/orders/:number/status', {
    bodyLimit,
    schema: {
      tags: ['shop'],
      summary: 'An order status change (tracking timeline); notifies the customer',
      security,
      params: Type.Object({ number: Type.String({ minLength: 1, maxLength: 64 }) }),
      body: StatusChangeSchema,
      response: { 200: StatusAnswer, ...shopErrors },
    },
  }, async (request) => {
    const { number } = request.params;
    const { eventId, ...change } = request.body;
    const answer = (v: { value: { statusEventId: string; current: boolean } }) => ({ ok: true, duplicate: false, statusEventId: v.value.statusEventId, current: v.value.current });
    // The answer for repeats is stored by the same statement that writes the change.
    const r = await services.sync.changeOrderStatusOnce(eventKey(request, eventId), number, change, { eventId, notify: true });
    if (r.duplicate) return replay(r.response);
    await after(r.result);
    return answer(r.result);
  });

  app.post('/loyalty/transactions', {
    bodyLimit,
    schema: {
      tags: ['shop', 'loyalty'],
      summary: 'Redeem points at checkout or adjust them',
      security,
      body: LoyaltyChangeSchema,
      response: { 200: Type.Object({ ok: Type.Boolean(), duplicate: Type.Boolean(), transactionId: Type.Optional(Type.String()), points: Type.Optional(Type.Integer()), balance: Type.Optional(Type.Integer()) }), ...shopErrors },
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
    const answer = (t: { transactionId: string; points: number; balance: number }) => ({ ok: true, duplicate: false, transactionId: t.transactionId, points: t.points, balance: t.balance });
    const r = await processOnce(opts.prisma, eventKey(request, body.eventId), (tx) =>
      services.ledger.applyShopChange(tx, { customerId, kind: body.kind, points: body.points, reason: body.reason, orderId, externalId: `shop:${body.eventId}` }), { answer },
    );
    if (r.duplicate) return replay(r.response);
    return answer(r.result);
  });

  app.post('/loyalty/balance', {
    bodyLimit,
    schema: {
      tags: ['shop', 'loyalty'],
      summary: "A customer's points balance, tier and next tier (for checkout). POST so the phone stays out of URLs and inside the signature.",
      security,
      body: Type.Object({ customer: CustomerRef }, { additionalProperties: false }),
      response: { 200: BalanceAnswer, ...shopErrors },
    },
  }, async (request) => {
    const { customer } = request.body;
    return services.ledger.balance(opts.prisma, await findCustomerId(customer));
  });

  app.post('/webhooks/test', {
    bodyLimit,
    schema: {
      tags: ['shop', 'webhooks'],
      summary: 'Send a signed `webhook.test` event to SHOP_WEBHOOK_URL now and report what the endpoint answered',
      description: 'Checks the endpoint and its signature code before any customer logs in. Nothing is stored or retried. 503 when SHOP_WEBHOOK_URL is not set.',
      security,
      body: Type.Object({ eventId: Type.Optional(EventId) }, { additionalProperties: false }),
      response: { 200: TestWebhookAnswer, ...shopErrors },
    },
  }, async () => {
    const r = await services.outbox.sendTest();
    return { ok: r.delivered, ...r };
  });

  registerBatchRoutes(app, opts);
  registerReadRoutes(app, opts);
};
