/**
 * NUL (U+0000) out of text that came from outside. PostgreSQL refuses 0x00 in text, so one
 * in a stored field fails the whole write; it carries no meaning in chat or shop text.
 * Applied where outside text enters: every bot update (src/bot/clean-text.ts) and every
 * parsed shop API body (src/api/shop/plugin.ts) — after the signature check, which covers
 * the bytes as sent.
 */

/** Returns the value with NUL removed from every string inside it; changes objects and arrays in place. */
export function stripNul<T>(value: T): T {
  if (typeof value === 'string') return (value.includes('\u0000') ? value.replace(/\u0000/g, '') : value) as T;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = stripNul(value[i]);
    return value;
  }
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const clean = stripNul(key);
      const inner = stripNul(record[key]);
      if (clean !== key) delete record[key];
      record[clean] = inner;
    }
  }
  return value;
}
