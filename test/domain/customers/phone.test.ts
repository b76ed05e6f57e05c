import { describe, expect, it } from 'vitest';
import { normalizeInternationalPhone, normalizePhone } from '../../../src/domain/customers/phone.js';

// Digits that a national (Russian) reading turns into a different, valid Russian number.
const LOOK_ALIKES: Array<[digits: string, international: string, russianMisreading: string]> = [
  ['84951234567', '+84951234567', '+74951234567'], // Vietnam vs Moscow with the 8 trunk prefix
  ['84912345678', '+84912345678', '+74912345678'], // Vietnam vs Ryazan
  ['3902123456', '+3902123456', '+73902123456'], // Italy (Milan) vs Abakan
  ['4930123456', '+4930123456', '+74930123456'], // Germany (Berlin) vs Ivanovo region
  ['4932123456', '+4932123456', '+74932123456'], // Germany vs Ivanovo
];

describe('normalizeInternationalPhone (a messenger-vouched phone)', () => {
  it.each(LOOK_ALIKES)('reads %s as %s, never as the Russian %s', (digits, international, russian) => {
    expect(normalizeInternationalPhone(digits)).toBe(international);
    expect(normalizeInternationalPhone(`+${digits}`)).toBe(international);
    // The typed reading stays national: that is what a person in Russia means.
    expect(normalizePhone(digits)).toBe(russian);
  });

  it('keeps +7 numbers of Russia and Kazakhstan as they are', () => {
    expect(normalizeInternationalPhone('79123456789')).toBe('+79123456789');
    expect(normalizeInternationalPhone('77011234567')).toBe('+77011234567');
    expect(normalizeInternationalPhone('+7 (912) 345-67-89')).toBe('+79123456789');
  });

  it('refuses a national form instead of guessing a country', () => {
    expect(() => normalizeInternationalPhone('89123456789')).toThrow(/phone/);
    expect(() => normalizeInternationalPhone('8 800 123-45-67')).toThrow(/phone/);
  });

  it('refuses junk', () => {
    for (const raw of ['', '+', '123', '7912+3456789', 'abc', '+0000000000', '9'.repeat(40)]) {
      expect(() => normalizeInternationalPhone(raw), raw).toThrow();
    }
  });
});

describe('normalizePhone (what a person types)', () => {
  it('reads an 8-prefixed number as Russian and international digits as international', () => {
    expect(normalizePhone('8 (912) 345-67-89')).toBe('+79123456789');
    expect(normalizePhone('8 495 123-45-67')).toBe('+74951234567');
    expect(normalizePhone('+84951234567')).toBe('+84951234567');
    expect(normalizePhone('380501234567')).toBe('+380501234567');
    expect(normalizePhone('+49 30 123456')).toBe('+4930123456');
  });
});
