/**
 * Read endpoints, so a shop can reconcile what Kabinet holds with its own records. Signed
 * like every other request (GET: the signature covers the method, the path with its query
 * string, and the empty body), so a phone in the query is covered too.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { normalizePhone } from '../../domain/customers/phone.js';
import { DomainError } from '../../errors.js';
import { security, shopErrors, type ShopApiOptions } from './plugin.js';
import { CustomerAnswer, OrderAnswer, ProductAnswer } from './schemas.js';

const iso = (d: Date | null) => d?.toISOString() ?? null;
const num = (d: { toString(): string } | null) => (d === null ? null : Number(d.toString()));

export function registerReadRoutes(parent: FastifyInstance, opts: ShopApiOptions): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { prisma } = opts;

  app.get('/customers/lookup', {
    schema: {
      tags: ['shop', 'read'],
      summary: 'A customer by phone or by your externalId, with linked messengers and points',
      security,
      querystring: Type.Object({ phone: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })), externalId: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) }, { additionalProperties: false }),
      response: { 200: CustomerAnswer, ...shopErrors },
    },
  }, async (request) => {
    const { phone, externalId } = request.query;
    if (!phone === !externalId) throw new DomainError('invalid_input', 'Give exactly one of phone or externalId', { field: phone ? 'externalId' : 'phone' });
    let where: { phone: string } | { externalId: string };
    if (externalId) where = { externalId };
    else {
      try {
        where = { phone: normalizePhone(phone!) };
      } catch (err) {
        throw new DomainError('invalid_input', err instanceof Error ? err.message : 'phone is not a phone number', { field: 'phone' });
      }
    }
    const c = await prisma.customer.findUnique({ where, include: { identities: { select: { platform: true, linkedAt: true, blockedAt: true }, orderBy: { createdAt: 'asc' } } } });
    if (!c) throw new DomainError('not_found', 'Customer not found', { field: externalId ? 'externalId' : 'phone' });
    return {
      id: c.id,
      phone: c.phone,
      externalId: c.externalId,
      firstName: c.firstName,
      lastName: c.lastName,
      email: c.email,
      language: c.language,
      personalDataConsent: c.personalDataConsent,
      marketingConsent: c.marketingConsent,
      messengers: c.identities.map((i) => ({ platform: i.platform, linkedAt: iso(i.linkedAt), blocked: i.blockedAt !== null })),
      points: { balance: c.pointsBalance, lifetimeSpend: Number(c.lifetimeSpend), tier: c.loyaltyTierCode },
      lastOrderAt: iso(c.lastOrderAt),
      createdAt: c.createdAt.toISOString(),
    };
  });

  app.get('/orders/:number', {
    schema: {
      tags: ['shop', 'read'],
      summary: 'An order with its items and status history (the tracking timeline, oldest first)',
      security,
      params: Type.Object({ number: Type.String({ minLength: 1, maxLength: 64 }) }),
      response: { 200: OrderAnswer, ...shopErrors },
    },
  }, async (request) => {
    const o = await prisma.order.findUnique({
      where: { number: request.params.number },
      include: { customer: { select: { externalId: true, phone: true } }, items: { orderBy: { id: 'asc' } }, statusEvents: { orderBy: [{ occurredAt: 'asc' }, { createdAt: 'asc' }] } },
    });
    if (!o) throw new DomainError('not_found', `Order ${request.params.number} not found`, { field: 'number' });
    return {
      id: o.id,
      number: o.number,
      customerId: o.customerId,
      customer: o.customer,
      status: o.status,
      currency: o.currency,
      itemsTotal: Number(o.itemsTotal),
      deliveryCost: Number(o.deliveryCost),
      discount: Number(o.discount),
      pointsSpent: o.pointsSpent,
      total: Number(o.total),
      carrier: o.carrier,
      trackingNumber: o.trackingNumber,
      trackingUrl: o.trackingUrl,
      placedAt: o.placedAt.toISOString(),
      pointsAccrued: o.pointsAccruedAt !== null,
      items: o.items.map((i) => ({ sku: i.sku, name: i.name, quantity: i.quantity, price: Number(i.price) })),
      history: o.statusEvents.map((e) => ({ status: e.status, occurredAt: e.occurredAt.toISOString(), carrier: e.carrier, trackingNumber: e.trackingNumber, trackingUrl: e.trackingUrl, location: e.location, note: e.note })),
    };
  });

  app.get('/products/:sku', {
    schema: {
      tags: ['shop', 'read'],
      summary: 'A product as Kabinet holds it, with how many alerts wait on it',
      security,
      params: Type.Object({ sku: Type.String({ minLength: 1, maxLength: 100 }) }),
      response: { 200: ProductAnswer, ...shopErrors },
    },
  }, async (request) => {
    const p = await prisma.product.findUnique({ where: { sku: request.params.sku } });
    if (!p) throw new DomainError('not_found', `Product ${request.params.sku} not found`, { field: 'sku' });
    const watchers = await prisma.productAlert.groupBy({ by: ['kind'], where: { productId: p.id, active: true }, _count: { _all: true } });
    const count = (kind: string) => watchers.find((w) => w.kind === kind)?._count._all ?? 0;
    return {
      id: p.id,
      sku: p.sku,
      name: p.name,
      nameEn: p.nameEn,
      price: Number(p.price),
      oldPrice: num(p.oldPrice),
      currency: p.currency,
      stock: p.stock,
      isActive: p.isActive,
      url: p.url,
      imageUrl: p.imageUrl,
      updatedAt: p.updatedAt.toISOString(),
      watchers: { backInStock: count('back_in_stock'), priceDrop: count('price_drop') },
    };
  });
}
