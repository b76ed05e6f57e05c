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

export function formatMoney(amount: string | number, currency: string, lang: string): string {
  const n = typeof amount === 'number' ? amount : Number(amount);
  try {
    return new Intl.NumberFormat(localeOf(lang), { style: 'currency', currency, maximumFractionDigits: 2, minimumFractionDigits: 0 }).format(n);
  } catch {
    return `${n.toFixed(2)} ${currency}`;
  }
}

/** "01.03.2026" (optionally with the time) for screens and lists. */
export function formatDate(iso: string, lang: string, timeZone: string, withTime = false): string {
  return new Intl.DateTimeFormat(localeOf(lang), {
    timeZone,
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
    ...(withTime ? { hour: '2-digit', minute: '2-digit' } : {}),
  }).format(new Date(iso));
}

/** "1 марта 2026" / "1 March 2026" for sentences in messages. */
export function formatLongDate(iso: string, lang: string, timeZone: string): string {
  return new Intl.DateTimeFormat(localeOf(lang), { timeZone, day: 'numeric', month: 'long', year: 'numeric' }).format(new Date(iso));
}
