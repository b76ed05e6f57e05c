/** TypeBox schemas of the shop API: the routes validate with them and /docs shows them. */
import { FormatRegistry, Type, type Static, type TLiteral, type TObject, type TUnion } from '@sinclair/typebox';
import type { OrderStatus } from '../../generated/prisma/enums.js';

// TypeBox's own compiler (used for per-item validation in batches) needs formats registered.
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (v) => ISO_DATE_TIME.test(v) && !Number.isNaN(Date.parse(v)));

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Str = (max: number, opts: Record<string, unknown> = {}) => Type.String({ minLength: 1, maxLength: max, ...opts });
/** What the money columns hold (numeric(12,2)): up to 9,999,999,999.99. */
export const MONEY_MAX = 9_999_999_999.99;
const Money = (description?: string) => Type.Number({ minimum: 0, maximum: MONEY_MAX, ...(description ? { description } : {}) });
/** PostgreSQL's integer. */
export const INT_MAX = 2_147_483_647;

export const EventId = Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9._:/-]+$', description: "The shop's unique id of this event. A repeat with the same body changes nothing and is answered with the first answer (same ids and values) and duplicate: true; the same id with another body is a 409." });

const ORDER_STATUSES: OrderStatus[] = ['created', 'confirmed', 'paid', 'assembling', 'shipped', 'ready_for_pickup', 'delivered', 'cancelled', 'returned'];
export const OrderStatusSchema = Type.Union(ORDER_STATUSES.map((s) => Type.Literal(s)), { description: 'Order status' }) as TUnion<Array<TLiteral<OrderStatus>>>;

export const CustomerSchema = Type.Object(
  {
    phone: Str(32, { description: 'Phone; normalised to E.164 (the identity across messengers)' }),
    externalId: Type.Optional(Nullable(Str(100))),
    firstName: Type.Optional(Nullable(Str(100))),
    lastName: Type.Optional(Nullable(Str(100))),
    email: Type.Optional(Nullable(Type.String({ maxLength: 254, pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$' }))),
    language: Type.Optional(Type.String({ minLength: 2, maxLength: 8 })),
    personalDataConsent: Type.Optional(Type.Boolean()),
    marketingConsent: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const ProductSchema = Type.Object(
  {
    sku: Str(100),
    name: Str(500),
    nameEn: Type.Optional(Nullable(Str(500))),
    description: Type.Optional(Nullable(Type.String({ maxLength: 10_000 }))),
    price: Money(),
    oldPrice: Type.Optional(Type.Union([Money(), Type.Null()])),
    currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
    stock: Type.Integer({ minimum: 0, maximum: 1e9 }),
    url: Type.Optional(Nullable(Type.String({ maxLength: 2000, pattern: '^https?://' }))),
    imageUrl: Type.Optional(Nullable(Type.String({ maxLength: 2000, pattern: '^https?://' }))),
    isActive: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const OrderItemSchema = Type.Object(
  { sku: Str(100), name: Str(500), quantity: Type.Integer({ minimum: 1, maximum: 100_000 }), price: Money('Unit price') },
  { additionalProperties: false },
);

export const OrderSchema = Type.Object(
  {
    number: Str(64),
    customerPhone: Type.Optional(Str(32, { description: 'The customer by phone (created when new)' })),
    customerExternalId: Type.Optional(Str(100, { description: "The customer by the shop's id" })),
    status: OrderStatusSchema,
    currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
    itemsTotal: Money(),
    deliveryCost: Type.Optional(Money()),
    discount: Type.Optional(Money()),
    pointsSpent: Type.Optional(Type.Integer({ minimum: 0, maximum: INT_MAX })),
    total: Money(),
    deliveryMethod: Type.Optional(Nullable(Str(200))),
    deliveryAddress: Type.Optional(Nullable(Str(1000))),
    carrier: Type.Optional(Nullable(Str(200))),
    trackingNumber: Type.Optional(Nullable(Str(200))),
    trackingUrl: Type.Optional(Nullable(Type.String({ maxLength: 2000, pattern: '^https?://' }))),
    paymentMethod: Type.Optional(Nullable(Str(100))),
    paymentStatus: Type.Optional(Nullable(Str(100))),
    placedAt: Type.String({ format: 'date-time' }),
    items: Type.Array(OrderItemSchema, { minItems: 1, maxItems: 1000 }),
    history: Type.Optional(Type.Boolean({ description: 'A past order (history import): stored as it was, without loyalty accrual and without telling the customer' })),
  },
  { additionalProperties: false },
);

export const StatusChangeSchema = Type.Object(
  {
    eventId: EventId,
    status: OrderStatusSchema,
    occurredAt: Type.String({ format: 'date-time' }),
    carrier: Type.Optional(Nullable(Str(200))),
    trackingNumber: Type.Optional(Nullable(Str(200))),
    trackingUrl: Type.Optional(Nullable(Type.String({ maxLength: 2000, pattern: '^https?://' }))),
    location: Type.Optional(Nullable(Str(500))),
    note: Type.Optional(Nullable(Str(2000))),
  },
  { additionalProperties: false },
);

export const CustomerRef = Type.Object(
  { phone: Type.Optional(Str(32)), externalId: Type.Optional(Str(100)) },
  { additionalProperties: false, description: 'phone or externalId', minProperties: 1 },
);

export const LoyaltyChangeSchema = Type.Object(
  {
    eventId: EventId,
    customer: CustomerRef,
    kind: Type.Union([Type.Literal('redemption'), Type.Literal('adjustment')]),
    points: Type.Integer({ minimum: -10_000_000, maximum: 10_000_000, description: 'redemption: points spent (positive); adjustment: signed' }),
    reason: Type.Optional(Nullable(Str(500))),
    orderNumber: Type.Optional(Str(64)),
  },
  { additionalProperties: false },
);

/** `{ eventId, <key>: schema }`, typed by key so routes get `request.body.<key>` from the type provider. */
export const Envelope = <K extends string, T extends TObject>(key: K, schema: T) =>
  Type.Object({ eventId: EventId, [key]: schema } as { eventId: typeof EventId } & { [P in K]: T }, { additionalProperties: false });

export const BatchEnvelope = <T extends ReturnType<typeof Type.Object>>(item: T, max: number) =>
  Type.Object({ eventId: EventId, items: Type.Array(item, { minItems: 1, maxItems: max }) }, { additionalProperties: false });

export const WriteAnswer = Type.Object({ ok: Type.Boolean(), duplicate: Type.Boolean(), id: Type.Optional(Type.String()), created: Type.Optional(Type.Boolean()) }, { additionalProperties: true });

const ItemErrorSchema = Type.Object({ index: Type.Integer(), key: Type.Union([Type.String(), Type.Null()]), field: Type.Union([Type.String(), Type.Null()]), message: Type.String() });

export const JobAccepted = Type.Object({ ok: Type.Boolean(), duplicate: Type.Boolean(), jobId: Type.String(), status: Type.String() });

export const ImportJobAnswer = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  status: Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')]),
  received: Type.Integer(),
  processed: Type.Integer({ description: 'Items behind, refused ones included' }),
  created: Type.Integer(),
  updated: Type.Integer(),
  failed: Type.Integer(),
  errors: Type.Array(ItemErrorSchema),
  error: Type.Union([Type.String(), Type.Null()], { description: 'Why the whole job stopped, when status is failed' }),
  createdAt: Type.String(),
  startedAt: Type.Union([Type.String(), Type.Null()]),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
});

const NullableStr = Type.Union([Type.String(), Type.Null()]);

export const CustomerAnswer = Type.Object({
  id: Type.String(),
  phone: Type.String(),
  externalId: NullableStr,
  firstName: NullableStr,
  lastName: NullableStr,
  email: NullableStr,
  language: Type.String(),
  personalDataConsent: Type.Boolean(),
  marketingConsent: Type.Boolean(),
  messengers: Type.Array(Type.Object({ platform: Type.String(), linkedAt: NullableStr, blocked: Type.Boolean() })),
  points: Type.Object({ balance: Type.Integer(), lifetimeSpend: Type.Number(), tier: Type.Union([Type.String(), Type.Null()]) }),
  lastOrderAt: NullableStr,
  createdAt: Type.String(),
});

export const OrderAnswer = Type.Object({
  id: Type.String(),
  number: Type.String(),
  customerId: Type.String(),
  customer: Type.Object({ externalId: NullableStr, phone: Type.String() }),
  status: Type.String(),
  currency: Type.String(),
  itemsTotal: Type.Number(),
  deliveryCost: Type.Number(),
  discount: Type.Number(),
  pointsSpent: Type.Integer(),
  total: Type.Number(),
  carrier: NullableStr,
  trackingNumber: NullableStr,
  trackingUrl: NullableStr,
  placedAt: Type.String(),
  pointsAccrued: Type.Boolean(),
  items: Type.Array(Type.Object({ sku: Type.String(), name: Type.String(), quantity: Type.Integer(), price: Type.Number() })),
  history: Type.Array(Type.Object({ status: Type.String(), occurredAt: Type.String(), carrier: NullableStr, trackingNumber: NullableStr, trackingUrl: NullableStr, location: NullableStr, note: NullableStr })),
});

export const ProductAnswer = Type.Object({
  id: Type.String(),
  sku: Type.String(),
  name: Type.String(),
  nameEn: NullableStr,
  price: Type.Number(),
  oldPrice: Type.Union([Type.Number(), Type.Null()]),
  currency: Type.String(),
  stock: Type.Integer(),
  isActive: Type.Boolean(),
  url: NullableStr,
  imageUrl: NullableStr,
  updatedAt: Type.String(),
  watchers: Type.Object({ backInStock: Type.Integer(), priceDrop: Type.Integer() }, { description: 'Active alerts waiting on this product' }),
});

export const TestWebhookAnswer = Type.Object({
  ok: Type.Boolean(),
  delivered: Type.Boolean(),
  eventId: Type.String(),
  statusCode: Type.Union([Type.Integer(), Type.Null()]),
  error: NullableStr,
  durationMs: Type.Integer(),
});

export const BatchAnswer = Type.Object({
  jobId: Type.Optional(Type.String()),
  ok: Type.Boolean(),
  duplicate: Type.Boolean(),
  received: Type.Optional(Type.Integer()),
  created: Type.Optional(Type.Integer()),
  updated: Type.Optional(Type.Integer()),
  failed: Type.Optional(Type.Integer()),
  errors: Type.Optional(Type.Array(ItemErrorSchema)),
});

/** Every 4xx body, from schema validation and from the domain alike (src/server/error-answer.ts). */
export { ErrorAnswer } from '../../server/error-answer.js';

export const BalanceAnswer = Type.Object({
  customerId: Type.String(),
  balance: Type.Integer(),
  lifetimeSpend: Type.Number(),
  tier: Type.Union([Type.Object({ code: Type.String(), name: Type.String(), nameEn: Type.String(), accrualPercent: Type.Number() }), Type.Null()]),
  nextTier: Type.Union([Type.Object({ code: Type.String(), name: Type.String(), nameEn: Type.String(), spendNeeded: Type.Number() }), Type.Null()]),
  expiringSoon: Type.Object({ points: Type.Integer(), earliestAt: Type.Union([Type.String(), Type.Null()]) }),
});

export type CustomerBody = Static<typeof CustomerSchema>;
export type ProductBody = Static<typeof ProductSchema>;
export type OrderBody = Static<typeof OrderSchema>;
