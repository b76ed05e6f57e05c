/**
 * The order card a status change sends (read in one statement), and the loyalty notifications,
 * which count points in words that agree with the number.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotificationRenderer } from '../../src/notifications/render.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { createCustomer, createOrder, createProduct } from '../support/factories.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => {
  await ctx?.close();
});

describe('loyalty notification texts', () => {
  it('says "122 балла" and "Баланс: 1 балл", "1 point" in English', async () => {
    const customer = await createCustomer(ctx.prisma, { phone: '+79160009901' });
    await ctx.prisma.customer.update({ where: { id: customer.id }, data: { pointsBalance: 1 } });
    const order = await createOrder(ctx.prisma, customer.id, { number: 'PL-1', items: [] });
    const render = createNotificationRenderer({ prisma: ctx.prisma, translator: ctx.translator });
    const input = { kind: 'points-credited', chatId: '1', customerId: customer.id, payload: { points: 122, orderId: order.id } };
    const ru = await render({ ...input, language: 'ru' });
    expect(ru?.payload.text).toBe('Начислено 122 балла за заказ №PL-1.\nБаланс: 1 балл.');
    const en = await render({ ...input, language: 'en', payload: { points: 1 } });
    expect(en?.payload.text).toBe('1 point credited.\nBalance: 1 point.');
    const expiring = await render({ ...input, kind: 'points-expiring', language: 'ru', payload: { points: 5, expiresAt: '2026-03-01T00:00:00Z' } });
    expect(expiring?.payload.text).toMatch(/^5 баллов сгорят /);
  });
});

describe('order status card', () => {
  it('counts the pieces, shows the total and falls back to the order\'s tracking when the event has none', async () => {
    const customer = await createCustomer(ctx.prisma, { phone: '+79160009902' });
    const [a, b] = [await createProduct(ctx.prisma), await createProduct(ctx.prisma)];
    const order = await createOrder(ctx.prisma, customer.id, {
      number: 'OC-1',
      items: [{ product: a, quantity: 2, price: 100 }, { product: b, quantity: 3, price: 50.5 }],
      trackingNumber: 'ORD-TRK',
      trackingUrl: 'https://track.example/ORD-TRK',
      events: [{ status: 'shipped', occurredAt: new Date('2026-02-02T10:00:00Z'), carrier: 'CDEK', location: 'Kazan <hub>' }],
    });
    const event = await ctx.prisma.orderStatusEvent.findFirstOrThrow({ where: { orderId: order.id } });
    const render = createNotificationRenderer({ prisma: ctx.prisma, translator: ctx.translator });
    const call = await render({ kind: 'order-status', chatId: '7', customerId: customer.id, language: 'en', payload: { orderId: order.id, statusEventId: event.id } });
    const text = String(call?.payload.text);
    expect(text.split('\n')).toEqual([
      '<b>Order #OC-1</b>',
      'Your order has been shipped',
      '',
      'Items: 5',
      expect.stringMatching(/^Total: RUB\s351\.5$/),
      'Carrier: CDEK',
      'Tracking number: <a href="https://track.example/ORD-TRK">ORD-TRK</a>',
      'Now at: Kazan &lt;hub&gt;',
    ]);
    const keyboard = (call?.payload.reply_markup as { inline_keyboard: Array<Array<{ url?: string; callback_data?: string }>> }).inline_keyboard.flat();
    expect(keyboard.map((button) => button.url ?? button.callback_data)).toEqual([`o:card:${order.id}:0`, 'https://track.example/ORD-TRK']);
  });

  it('an order without items says 0; an event that is gone, or an id that is not one, sends nothing', async () => {
    const customer = await createCustomer(ctx.prisma, { phone: '+79160009903' });
    const order = await createOrder(ctx.prisma, customer.id, { number: 'OC-2', items: [], events: [{ status: 'paid', occurredAt: new Date() }] });
    const event = await ctx.prisma.orderStatusEvent.findFirstOrThrow({ where: { orderId: order.id } });
    const render = createNotificationRenderer({ prisma: ctx.prisma, translator: ctx.translator });
    const input = { kind: 'order-status', chatId: '7', customerId: customer.id, language: 'en' };
    expect(String((await render({ ...input, payload: { statusEventId: event.id } }))?.payload.text)).toContain('Items: 0');
    expect(await render({ ...input, payload: { statusEventId: '01a24da4-0000-7000-8000-000000000000' } })).toBeNull();
    for (const statusEventId of ['not-a-uuid', "1'; DROP TABLE orders; --", 42, null, { id: event.id }]) {
      expect(await render({ ...input, payload: { statusEventId } })).toBeNull();
    }
  });
});
