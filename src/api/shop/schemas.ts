/** TypeBox schemas of the shop API: the routes validate with them and /docs shows them. */
import { FormatRegistry, Type, type Static, type TLiteral, type TObject, type TUnion } from '@sinclair/typebox';
import type { OrderStatus } from '../../generated/prisma/enums.js';

// TypeBox's own compiler (used for per-item validation in batches) needs formats registered.
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (v) => ISO_DATE_TIME.test(v) && !Number.isNaN(Date.parse(v)));

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Str = (max: number, opts: Record<string, unknown> = {}) => Type.String({ minLength: 1, maxLength: max, ...opts });
const Money = (description?: string) => Type.Number({ minimum: 0, maximum: 1e10, ...(description ? { description } : {}) });

export const EventId = Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9._:/-]+$', description: "The shop's unique id of this event. A repeat is answered 200 with duplicate: true and changes nothing." });

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
    pointsSpent: Type.Optional(Type.Integer({ minimum: 0 })),
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

export const BatchAnswer = Type.Object({
  ok: Type.Boolean(),
  duplicate: Type.Boolean(),
  received: Type.Optional(Type.Integer()),
  created: Type.Optional(Type.Integer()),
  updated: Type.Optional(Type.Integer()),
  failed: Type.Optional(Type.Integer()),
  errors: Type.Optional(Type.Array(Type.Object({ index: Type.Integer(), key: Type.Union([Type.String(), Type.Null()]), field: Type.Union([Type.String(), Type.Null()]), message: Type.String() }))),
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
