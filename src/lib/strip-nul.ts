/**
 * NUL (U+0000) out of text that came from outside. PostgreSQL refuses 0x00 in text, so one
 * in a stored field fails the whole write; it carries no meaning in chat or shop text.
 * Applied where outside text enters: every bot update (src/bot/clean-text.ts) and every
 * parsed shop API body (src/api/shop/plugin.ts) — after the signature check, which covers
 * the bytes as sent.
 *
 * Bodies that may be stored as jsonb (the shop API's, the shop platforms' webhooks) also lose
 * their lone UTF-16 surrogates (`"\ud800"` is valid JSON text): jsonb refuses them, so one in a
 * batch item or a refused delivery was a 500. They become U+FFFD, as any UTF-8 encoder writes them.
 */

/** A surrogate without its other half. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const dropNul = (text: string) => (text.includes('\u0000') ? text.replace(/\u0000/g, '') : text);

/** NUL dropped and lone surrogates replaced (U+FFFD): text PostgreSQL stores as text and as jsonb. */
export function storableText(text: string): string {
  return dropNul(text).replace(LONE_SURROGATE, '\ufffd');
}

/** Applies `clean` to every string and every key inside `value`; changes objects and arrays in place. */
function cleanStrings<T>(value: T, clean: (text: string) => string): T {
  if (typeof value === 'string') return clean(value) as T;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const inner = cleanStrings(value[i], clean);
      if (inner !== value[i]) value[i] = inner;
    }
    return value;
  }
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    // Written back only where something changed: a clean update (nearly every one) is read, not
    // rewritten property by property.
    for (const key of Object.keys(record)) {
      const cleanKey = clean(key);
      const inner = cleanStrings(record[key], clean);
      if (cleanKey !== key) {
        delete record[key];
        record[cleanKey] = inner;
      } else if (inner !== record[key]) record[key] = inner;
    }
  }
  return value;
}

/** Returns the value with NUL removed from every string inside it; changes objects and arrays in place. */
export function stripNul<T>(value: T): T {
  return cleanStrings(value, dropNul);
}

/** stripNul, and lone surrogates replaced: for parsed bodies that may be stored as jsonb. */
export function makeStorable<T>(value: T): T {
  return cleanStrings(value, storableText);
}
