/** Screens stay within a message's limit however much the shop sends. */
import { beforeAll, describe, expect, it } from 'vitest';
import { fitText, MAX_TEXT_LENGTH } from '../../src/bot/render.js';
import { orderCard } from '../../src/bot/views/orders.view.js';
import type { View } from '../../src/bot/views/view.js';
import type { OrderCardDto } from '../../src/domain/orders/orders.service.js';
import { createTranslator } from '../../src/infra/i18n.js';
import { LOCALES_DIR } from '../../src/infra/infrastructure.js';

let view: View;
beforeAll(async () => {
  const translator = await createTranslator({ localesDir: LOCALES_DIR, languages: ['ru', 'en'], defaultLanguage: 'ru' });
  view = { t: translator.t('ru'), lang: 'ru', timeZone: 'Europe/Moscow', shopName: 'Shop' };
});

describe('fitText', () => {
  it('keeps short texts and cuts long ones at a line, never inside a tag', () => {
    expect(fitText('<b>a</b>\nb')).toBe('<b>a</b>\nb');
    const long = Array.from({ length: 400 }, (_, i) => `<b>line ${i}</b> ${'x'.repeat(20)}`).join('\n');
    const fitted = fitText(long);
    expect(fitted.length).toBeLessThanOrEqual(MAX_TEXT_LENGTH);
    expect(fitted.endsWith('\n…')).toBe(true);
    expect(fitted.split('\n').slice(0, -1).every((l) => /^<b>line \d+<\/b> x+$/.test(l))).toBe(true);
  });

  it('drops the markup of one enormous line rather than cut inside it', () => {
    const fitted = fitText(`<b>${'я&amp;'.repeat(2000)}</b>`);
    expect(fitted.length).toBeLessThanOrEqual(MAX_TEXT_LENGTH);
    expect(fitted).not.toMatch(/<|&[a-z]*…$/);
  });
});

describe('order card', () => {
  it('shows 30 items with names cut to 100 characters and says how many more there are', () => {
    const items = Array.from({ length: 42 }, (_, i) => ({ sku: `S${i}`, name: `Товар ${i} ${'о'.repeat(490)}`, quantity: 1, price: '10', sum: '10' }));
    const order = {
      id: '00000000-0000-7000-8000-000000000001', number: 'BIG-1', status: 'created', placedAt: '2026-01-01T00:00:00Z', currency: 'RUB',
      itemsTotal: '420', deliveryCost: '0', discount: '0', pointsSpent: 0, total: '420', items,
      deliveryMethod: null, deliveryAddress: null, paymentMethod: null, paymentStatus: null, carrier: null, trackingNumber: null, trackingUrl: null,
    } as unknown as OrderCardDto;
    const { text } = orderCard(view, order, 0);
    expect(text.length).toBeLessThanOrEqual(MAX_TEXT_LENGTH);
    expect(text).toContain('…и ещё 12 товаров');
    expect(text).toContain('Итого');
    expect(text).not.toContain('Товар 30 ');
  });
});
