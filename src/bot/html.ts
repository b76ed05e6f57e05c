/** Rendering helpers: every dynamic value goes through escapeHtml before parse_mode HTML. */

export function escapeHtml(value: string | number | null | undefined): string {
  return String(value ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const LOCALES: Record<string, string> = { ru: 'ru-RU', en: 'en-GB' };

export function formatMoney(amount: string | number, currency: string, lang: string): string {
  const n = typeof amount === 'number' ? amount : Number(amount);
  try {
    return new Intl.NumberFormat(LOCALES[lang] ?? lang, { style: 'currency', currency, maximumFractionDigits: 2, minimumFractionDigits: 0 }).format(n);
  } catch {
    return `${n.toFixed(2)} ${currency}`;
  }
}

export function formatDate(iso: string, lang: string, timeZone: string, withTime = false): string {
  return new Intl.DateTimeFormat(LOCALES[lang] ?? lang, {
    timeZone,
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
    ...(withTime ? { hour: '2-digit', minute: '2-digit' } : {}),
  }).format(new Date(iso));
}
