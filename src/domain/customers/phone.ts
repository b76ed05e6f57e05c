import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { DomainError } from '../../errors.js';

/**
 * Normalises a phone as people type or share it ("8 (912) 345-67-89", "+7912...", "79123456789")
 * to E.164. Telegram contacts often come without the leading "+"; a leading 8 is Russia's
 * trunk prefix. Throws invalid_input for anything that is not a possible number.
 */
export function normalizePhone(raw: string, defaultRegion: CountryCode = 'RU'): string {
  const cleaned = raw.trim().replace(/[^\d+]/g, '');
  if (cleaned.length < 5) throw new DomainError('invalid_input', 'Not a phone number', { field: 'phone' });
  const candidates = cleaned.startsWith('+') ? [cleaned] : [cleaned, `+${cleaned}`];
  for (const candidate of candidates) {
    const parsed = parsePhoneNumberFromString(candidate, defaultRegion);
    if (parsed?.isValid()) return parsed.number;
  }
  throw new DomainError('invalid_input', 'Not a valid phone number', { field: 'phone' });
}

/** True when normalizePhone accepts `raw`. */
export function isValidPhone(raw: string, defaultRegion: CountryCode = 'RU'): boolean {
  try {
    normalizePhone(raw, defaultRegion);
    return true;
  } catch {
    return false;
  }
}
