/**
 * Telegram formatting → VK plain text. VK bots cannot send rich text, so the brain's HTML
 * (parse_mode "HTML") or Markdown becomes readable plain text: tags stripped, entities
 * unescaped, links kept as "text (url)" so nothing the customer needs is lost.
 */

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

export function unescapeHtml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, body: string) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? whole;
  });
}

/** Telegram's HTML subset (b, i, u, s, a, code, pre, blockquote, tg-spoiler, br) → plain text. */
export function htmlToPlainText(html: string): string {
  let out = html.replace(/<br\s*\/?>/gi, '\n');
  out = out.replace(/<a\s+[^>]*href\s*=\s*(?:"([^"]*)"|'([^']*)')[^>]*>([\s\S]*?)<\/a>/gi, (_m, dq: string | undefined, sq: string | undefined, inner: string) => {
    const url = unescapeHtml(dq ?? sq ?? '');
    const label = inner.replace(/<[^>]*>/g, '');
    const labelText = unescapeHtml(label).trim();
    if (!url || url.startsWith('tg://')) return label;
    // A bare link whose text is the URL itself stays a bare URL.
    return labelText === url || labelText === '' ? escapeForLater(url) : `${label} (${escapeForLater(url)})`;
  });
  out = out.replace(/<\/?(?:b|strong|i|em|u|ins|s|strike|del|code|pre|span|tg-spoiler|tg-emoji|blockquote)(?:\s[^>]*)?>/gi, '');
  // Anything else that looks like a tag is not Telegram HTML; drop the markup, keep the text.
  out = out.replace(/<\/?[a-z][^>]*>/gi, '');
  return unescapeHtml(out);
}

/** URLs may contain "&amp;" already unescaped; keep them intact through the final unescape. */
function escapeForLater(url: string): string {
  return url.replace(/&/g, '&amp;');
}

/** Telegram MarkdownV2 / legacy Markdown → plain text: links as "text (url)", markers and escapes removed. */
export function markdownToPlainText(md: string, v2: boolean): string {
  let out = md.replace(/\[([^\]]+)\]\(([^)]+)\)/g, (_m, label: string, url: string) => `${label} (${url.replace(/\\([()\\])/g, '$1')})`);
  out = out.replace(/```[a-z]*\n?([\s\S]*?)```/g, '$1');
  out = out.replace(/(^|[^\\])[*_~`|]+/g, '$1').replace(/(^|[^\\])[*_~`|]+/g, '$1');
  if (v2) out = out.replace(/\\([_*[\]()~`>#+\-=|{}.!\\])/g, '$1');
  return out;
}

/** The text VK should show for a Telegram text + parse_mode. */
export function toPlainText(text: string, parseMode: unknown): string {
  if (parseMode === 'HTML') return htmlToPlainText(text);
  if (parseMode === 'MarkdownV2') return markdownToPlainText(text, true);
  if (parseMode === 'Markdown') return markdownToPlainText(text, false);
  return text;
}
