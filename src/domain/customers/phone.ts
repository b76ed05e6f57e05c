import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { DomainError } from '../../errors.js';

/**
 * Two ways to read a phone, because the same digits mean different numbers:
 * "84951234567" shared as a Telegram contact is Vietnam (+84 95 123 4567), typed by a
 * person in Russia it is Moscow (8 495 123-45-67 → +7 495 123-45-67). A phone that becomes
 * a login must be read the way its source writes it, or someone logs into another
 * customer's account.
 */

const cleanDigits = (raw: string) => raw.trim().replace(/[^\d+]/g, '');

const invalid = () => new DomainError('invalid_input', 'Not a valid phone number', { field: 'phone' });

/**
 * A phone as a messenger vouches for it (a Telegram contact's `phone_number`, a verified
 * code's E.164 phone): always international, the leading "+" optional. Digits without "+"
 * get one; there is no national guess, so a number that is not valid internationally is
 * refused rather than reinterpreted. Throws invalid_input.
 */
export function normalizeInternationalPhone(raw: string): string {
  const cleaned = cleanDigits(raw);
  const digits = cleaned.replace(/^\+/, '');
  // A "+" anywhere but the front, or nothing but formatting: not a phone.
  if (!/^\d{5,15}$/.test(digits) || cleaned.indexOf('+') > 0) throw invalid();
  const parsed = parsePhoneNumberFromString(`+${digits}`);
  if (!parsed?.isValid()) throw invalid();
  return parsed.number;
}

/**
 * Normalises a phone as a person types it ("8 (912) 345-67-89", "+7912...", "79123456789")
 * to E.164: read as a national number of `defaultRegion` first (a leading 8 is Russia's
 * trunk prefix), then as international digits without "+". Only for what a person typed
 * (or a shop's form sent): never for a phone that logs someone in on its own — use
 * normalizeInternationalPhone for those. Throws invalid_input for anything that is not a
 * valid number.
 */
export function normalizePhone(raw: string, defaultRegion: CountryCode = 'RU'): string {
  const cleaned = cleanDigits(raw);
  if (cleaned.length < 5) throw new DomainError('invalid_input', 'Not a phone number', { field: 'phone' });
  const candidates = cleaned.startsWith('+') ? [cleaned] : [cleaned, `+${cleaned}`];
  for (const candidate of candidates) {
    const parsed = parsePhoneNumberFromString(candidate, defaultRegion);
    if (parsed?.isValid()) return parsed.number;
  }
  throw invalid();
}

/** The name says what it reads: a typed phone (national first). */
export const normalizeTypedPhone = normalizePhone;

/** True when normalizePhone (a typed phone) accepts `raw`. */
export function isValidPhone(raw: string, defaultRegion: CountryCode = 'RU'): boolean {
  try {
    normalizePhone(raw, defaultRegion);
    return true;
  } catch {
    return false;
  }
}
