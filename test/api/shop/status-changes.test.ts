/**
 * The status route under a shop's parallel traffic: changes of one order sent at once are
 * decided one after the other (the newest by occurredAt is the order's status, whatever order
 * they commit in), a change sent several times at once is written once and every repeat gets
 * the first answer, and a refused change writes nothing. Through the real route and PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import type { App } from '../../../src/server/app.js';
import type { TestContext } from '../../support/context.js';
import { createCustomer } from '../../support/factories.js';
import { isDomainError } from '../../../src/errors.js';
import type { ShopServices } from '../../../src/shop-services.js';
import { useShopApp, rowCounts, signedPost } from './helpers.js';

let ctx: TestContext;
let app: App;
let shop: ShopServices;

useShopApp((w) => ({ ctx, app, shop } = w));

let seq = 0;
/** An order (paid) of a customer linked to a Telegram chat, so changes write notifications. */
async function orderWithChat() {
  const customer = await createCustomer(ctx.prisma);
  const n = ++seq;
  await ctx.prisma.channelIdentity.create({ data: { platform: 'telegram', externalId: `55500${n}`, chatId: `55500${n}`, customerId: customer.id, linkedAt: new Date() } });
  const number = `SC-${n}`;
  const res = await signedPost(app, '/api/v1/orders', {
    eventId: `sc-order-${n}`,
    order: { number, customerPhone: customer.phone, status: 'paid', itemsTotal: 1000, total: 1000, placedAt: '2026-03-01T10:00:00Z', items: [{ sku: 'SC-1', name: 'Лампа', quantity: 1, price: 1000 }] },
  });
  expect(res.statusCode).toBe(200);
  return { customer, number };
}

describe('status changes of one order at once', () => {
  it('ends with the newest change, each change on the timeline once, whatever order they commit in', async () => {
    const statuses = ['confirmed', 'assembling', 'shipped', 'ready_for_pickup', 'delivered'] as const;
    // Per order 20 changes, occurredAt shuffled against the order they are sent in; some are
    // "delivered" (points take the ledger's longer path), so both paths meet on one order.
    const minutes = [7, 19, 3, 12, 0, 16, 9, 1, 18, 5, 14, 10, 2, 17, 8, 13, 4, 11, 6, 15];
    // Three orders at once: more chances for two changes of one order to overlap.
    await Promise.all([0, 1, 2].map(async (round) => {
      const { customer, number } = await orderWithChat();
      const changes = minutes.map((m, i) => ({
        eventId: `sc-${number}-${i}`,
        status: statuses[(i + round) % statuses.length]!,
        occurredAt: new Date(Date.UTC(2026, 2, 2, 10, m)).toISOString(),
        trackingNumber: `TRK-${m}`,
      }));
      const answers = await Promise.all(changes.map((c) => signedPost(app, `/api/v1/orders/${number}/status`, c)));
      expect(answers.map((a) => a.statusCode)).toEqual(changes.map(() => 200));

      const newest = changes[minutes.indexOf(19)]!;
      const order = await ctx.prisma.order.findUniqueOrThrow({ where: { number }, include: { statusEvents: true } });
      expect(order.status).toBe(newest.status);
      expect(order.trackingNumber).toBe(newest.trackingNumber);
      expect(order.statusEvents).toHaveLength(changes.length + 1);
      expect(new Set(order.statusEvents.map((e) => e.sourceEventId))).toEqual(new Set([`sc-order-${number.slice(3)}/${number}`, ...changes.map((c) => c.eventId)]));
      // The newest change was current when it was decided; each answer names its own event.
      expect(answers[minutes.indexOf(19)]!.json().current).toBe(true);
      expect(new Set(answers.map((a) => a.json().statusEventId)).size).toBe(changes.length);
      // Every order-status notification but the new order's is about a change that was current.
      const told = await ctx.prisma.notification.findMany({ where: { customerId: customer.id, kind: 'order-status' }, orderBy: { createdAt: 'asc' }, select: { payload: true, dedupKey: true } });
      const currentIds = new Set(answers.filter((a) => a.json().current).map((a) => a.json().statusEventId));
      for (const n of told.slice(1)) expect(currentIds.has((n.payload as { statusEventId: string }).statusEventId)).toBe(true);
      expect(new Set(told.map((n) => n.dedupKey)).size).toBe(told.length);
    }));
  });

  it('writes a change sent several times at once once, and answers every repeat with the first answer', async () => {
    const { customer, number } = await orderWithChat();
    const change = { eventId: `sc-twins-${number}`, status: 'shipped', occurredAt: '2026-03-03T10:00:00Z', carrier: 'CDEK' };
    const answers = await Promise.all(Array.from({ length: 8 }, () => signedPost(app, `/api/v1/orders/${number}/status`, change)));
    expect(answers.map((a) => a.statusCode)).toEqual(answers.map(() => 200));
    const bodies = answers.map((a) => a.json());
    expect(bodies.filter((b) => b.duplicate === false)).toHaveLength(1);
    const first = bodies.find((b) => b.duplicate === false)!;
    for (const b of bodies) expect(b).toEqual({ ...first, duplicate: b.duplicate });
    expect(await ctx.prisma.orderStatusEvent.count({ where: { sourceEventId: change.eventId } })).toBe(1);
    expect(await ctx.prisma.notification.count({ where: { customerId: customer.id, kind: 'order-status', payload: { path: ['statusEventId'], equals: first.statusEventId } } })).toBe(1);

    // Later, the same id: the stored answer; with another body: a conflict that writes nothing.
    const again = await signedPost(app, `/api/v1/orders/${number}/status`, change);
    expect(again.json()).toEqual({ ...first, duplicate: true });
    const before = await rowCounts(ctx);
    const other = await signedPost(app, `/api/v1/orders/${number}/status`, { ...change, status: 'delivered' });
    expect(other.statusCode).toBe(409);
    expect(await rowCounts(ctx)).toEqual(before);
  });

  it('stores the change, the order, the notification and the answer together (an older change fills the timeline only)', async () => {
    const { customer, number } = await orderWithChat();
    const newer = await signedPost(app, `/api/v1/orders/${number}/status`, { eventId: `sc-new-${number}`, status: 'shipped', occurredAt: '2026-03-05T10:00:00Z', carrier: 'CDEK', trackingNumber: 'T-NEW', trackingUrl: 'https://track.example/T-NEW' });
    expect(newer.json()).toMatchObject({ ok: true, duplicate: false, current: true });
    const older = await signedPost(app, `/api/v1/orders/${number}/status`, { eventId: `sc-old-${number}`, status: 'assembling', occurredAt: '2026-03-04T10:00:00Z', trackingNumber: 'T-OLD', location: 'Склад', note: 'late' });
    expect(older.json()).toMatchObject({ ok: true, duplicate: false, current: false });

    const order = await ctx.prisma.order.findUniqueOrThrow({ where: { number } });
    expect(order).toMatchObject({ status: 'shipped', carrier: 'CDEK', trackingNumber: 'T-NEW', trackingUrl: 'https://track.example/T-NEW' });
    const event = await ctx.prisma.orderStatusEvent.findUniqueOrThrow({ where: { id: older.json().statusEventId } });
    expect(event).toMatchObject({ status: 'assembling', occurredAt: new Date('2026-03-04T10:00:00Z'), trackingNumber: 'T-OLD', location: 'Склад', note: 'late', carrier: null, sourceEventId: `sc-old-${number}` });
    const told = await ctx.prisma.notification.findMany({ where: { customerId: customer.id, kind: 'order-status' }, orderBy: { createdAt: 'asc' } });
    // paid (the new order), then shipped; the older change tells nobody.
    expect(told.map((n) => (n.payload as { status: string }).status)).toEqual(['paid', 'shipped']);
    const shipped = told[1]!;
    expect(shipped).toMatchObject({ status: 'pending', attempts: 0, dedupKey: `order-status:${newer.json().statusEventId}:${shipped.identityId}` });
    expect(shipped.payload).toEqual({ orderId: order.id, statusEventId: newer.json().statusEventId, status: 'shipped' });
    expect(shipped.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const stored = await ctx.prisma.processedEvent.findUniqueOrThrow({ where: { source_eventId: { source: 'shop', eventId: `sc-new-${number}` } } });
    expect(stored.response).toEqual({ ok: true, duplicate: false, statusEventId: newer.json().statusEventId, current: true });
  });

  it('refuses a value PostgreSQL cannot store as input of the caller, on both paths, and writes nothing', async () => {
    // Out of the API schema's reach (it wants a 4-digit year), not of a domain caller's (an adapter).
    const { number } = await orderWithChat();
    const before = await rowCounts(ctx);
    for (const status of ['shipped', 'delivered'] as const) {
      const key = { source: 'shop', eventId: `sc-range-${status}`, requestHash: 'x' };
      const err = await shop.sync.changeOrderStatusOnce(key, number, { status, occurredAt: '-010000-01-01T00:00:00Z' }, { eventId: key.eventId, notify: true }).catch((e: unknown) => e);
      expect(isDomainError(err) && err.code).toBe('invalid_input');
    }
    expect(await rowCounts(ctx)).toEqual(before);
  });
});
