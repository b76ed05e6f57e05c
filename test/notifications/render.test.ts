/** The loyalty notifications count points in words that agree with the number. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotificationRenderer } from '../../src/notifications/render.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { createCustomer, createOrder } from '../support/factories.js';

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
