/**
 * Text formatting shared by the bot's screens and the notifications: HTML escaping for
 * parse_mode HTML, money and dates in the reader's language. One place, so a card in the
 * bot and the same order in a notification read alike.
 */

/** Every dynamic value goes through this before parse_mode HTML. */
export function escapeHtml(value: string | number | null | undefined): string {
  return String(value ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const LOCALES: Record<string, string> = { ru: 'ru-RU', en: 'en-GB' };
const localeOf = (lang: string) => LOCALES[lang] ?? lang;

// Building an Intl formatter costs far more than formatting with one (tens of microseconds
// against one or two), and an orders page formats dozens of values: built once per
// language, currency or time zone and kept. The keys come from a few languages, the shop's
// currencies and its time zone, so the caches stay small (and are dropped if they do not).
const MAX_CACHED = 500;
const moneyFormats = new Map<string, Intl.NumberFormat | null>();
const dateFormats = new Map<string, Intl.DateTimeFormat>();

function moneyFormat(lang: string, currency: string): Intl.NumberFormat | null {
  const key = `${lang}\u0000${currency}`;
  let format = moneyFormats.get(key);
  if (format === undefined) {
    try {
      format = new Intl.NumberFormat(localeOf(lang), { style: 'currency', currency, maximumFractionDigits: 2, minimumFractionDigits: 0 });
    } catch {
      format = null; // not a currency Intl knows
    }
    if (moneyFormats.size >= MAX_CACHED) moneyFormats.clear();
    moneyFormats.set(key, format);
  }
  return format;
}

function dateFormat(lang: string, timeZone: string, kind: 'date' | 'dateTime' | 'long'): Intl.DateTimeFormat {
  const key = `${lang}\u0000${timeZone}\u0000${kind}`;
  let format = dateFormats.get(key);
  if (!format) {
    const fields: Intl.DateTimeFormatOptions =
      kind === 'long'
        ? { day: 'numeric', month: 'long', year: 'numeric' }
        : { day: '2-digit', month: '2-digit', year: 'numeric', ...(kind === 'dateTime' ? { hour: '2-digit', minute: '2-digit' } : {}) };
    format = new Intl.DateTimeFormat(localeOf(lang), { timeZone, ...fields });
    if (dateFormats.size >= MAX_CACHED) dateFormats.clear();
    dateFormats.set(key, format);
  }
  return format;
}

export function formatMoney(amount: string | number, currency: string, lang: string): string {
  const n = typeof amount === 'number' ? amount : Number(amount);
  return moneyFormat(lang, currency)?.format(n) ?? `${n.toFixed(2)} ${currency}`;
}

/** "01.03.2026" (optionally with the time) for screens and lists. */
export function formatDate(iso: string, lang: string, timeZone: string, withTime = false): string {
  return dateFormat(lang, timeZone, withTime ? 'dateTime' : 'date').format(new Date(iso));
}

/** "1 марта 2026" / "1 March 2026" for sentences in messages. */
export function formatLongDate(iso: string, lang: string, timeZone: string): string {
  return dateFormat(lang, timeZone, 'long').format(new Date(iso));
}
