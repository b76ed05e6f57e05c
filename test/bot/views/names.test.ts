/** The one rule for shop words in views: product names by language, shop codes in words. */
import { describe, expect, it } from 'vitest';
import { createTranslator } from '../../../src/infra/i18n.js';
import { LOCALES_DIR } from '../../../src/infra/infrastructure.js';
import { productNameIn, shopCode } from '../../../src/bot/views/names.js';
import type { View } from '../../../src/bot/views/view.js';

const translator = await createTranslator({ localesDir: LOCALES_DIR, languages: ['ru', 'en'], defaultLanguage: 'ru' });
const view = (lang: string): View => ({ t: translator.t(lang), lang, timeZone: 'UTC', shopName: 'Shop' });

describe('product names', () => {
  it("take the reader's language and fall back to the other", () => {
    expect(productNameIn('en', { name: 'Чай', nameEn: 'Tea' })).toBe('Tea');
    expect(productNameIn('ru', { name: 'Чай', nameEn: 'Tea' })).toBe('Чай');
    expect(productNameIn('en', { name: 'Чай', nameEn: null })).toBe('Чай');
    expect(productNameIn('en', { name: 'Чай', nameEn: '  ' })).toBe('Чай');
    expect(productNameIn('ru', { name: ' ', nameEn: 'Tea' })).toBe('Tea');
  });
});

describe('shop codes', () => {
  it('translates known codes in any case or separator', () => {
    expect(shopCode(view('ru'), 'delivery', 'courier')).toBe('курьер');
    expect(shopCode(view('en'), 'payment', 'CARD')).toBe('card online');
    expect(shopCode(view('ru'), 'payment_status', 'partially-paid')).toBe('оплачен частично');
  });

  it('reads an unknown code as words and keeps what the shop wrote in words', () => {
    expect(shopCode(view('ru'), 'delivery', 'drone_drop')).toBe('Drone drop');
    expect(shopCode(view('en'), 'payment', 'giftCard')).toBe('Gift card');
    expect(shopCode(view('ru'), 'payment', 'Оплата частями')).toBe('Оплата частями');
    expect(shopCode(view('ru'), 'delivery', 'courier express')).toBe('courier express');
  });
});
