import { badRequest } from './errors.js';
import type { TelegramApiError } from './errors.js';
import type { TgMessageEntity } from './types.js';

export interface FormattedText {
  text: string;
  entities: TgMessageEntity[];
}

const byteOffset = (source: string, index: number): number => Buffer.byteLength(source.slice(0, index));
const parseError = (text: string): TelegramApiError => badRequest(`can't parse entities: ${text}`);

/** Telegram orders entities by offset, outer (longer) first. */
const sortEntities = (entities: TgMessageEntity[]): TgMessageEntity[] =>
  entities.sort((a, b) => a.offset - b.offset || b.length - a.length);

/** Applies parse_mode the way the Bot API does; throws its "can't parse entities" errors. */
export function parseFormattedText(input: string, parseMode: string | undefined): FormattedText {
  if (parseMode === undefined || parseMode === '') return { text: input, entities: [] };
  switch (parseMode.toLowerCase()) {
    case 'html':
      return parseHtml(input);
    case 'markdownv2':
      return parseMarkdownV2(input);
    case 'markdown':
      return parseMarkdownLegacy(input);
    default:
      throw badRequest(`unsupported parse_mode`);
  }
}

const HTML_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

interface OpenTag {
  tag: string;
  offset: number;
  entity: Omit<TgMessageEntity, 'offset' | 'length'> | undefined;
}

function parseHtml(input: string): FormattedText {
  let out = '';
  const entities: TgMessageEntity[] = [];
  const stack: OpenTag[] = [];
  let i = 0;
  while (i < input.length) {
    const lt = input.indexOf('<', i);
    const amp = input.indexOf('&', i);
    const next = lt < 0 ? amp : amp < 0 ? lt : Math.min(lt, amp);
    if (next < 0) {
      out += input.slice(i);
      break;
    }
    out += input.slice(i, next);
    i = next;
    if (input[i] === '&') {
      const semi = input.indexOf(';', i);
      const name = semi > i ? input.slice(i + 1, semi) : '';
      let decoded: string | undefined;
      if (name.length > 0 && name.length <= 10) {
        if (name.startsWith('#x') || name.startsWith('#X')) decoded = codePoint(Number.parseInt(name.slice(2), 16));
        else if (name.startsWith('#')) decoded = codePoint(Number.parseInt(name.slice(1), 10));
        else decoded = HTML_ENTITIES[name.toLowerCase()];
      }
      if (decoded === undefined) {
        // Unknown entities stay as written, like the real parser.
        out += '&';
        i += 1;
      } else {
        out += decoded;
        i = semi + 1;
      }
      continue;
    }
    const close = input.indexOf('>', i);
    if (close < 0) throw parseError(`Unclosed start tag at byte offset ${byteOffset(input, i)}`);
    const raw = input.slice(i + 1, close);
    if (raw.startsWith('/')) {
      const name = raw.slice(1).trim().toLowerCase();
      const top = stack.pop();
      if (top === undefined) throw parseError(`Unexpected end tag at byte offset ${byteOffset(input, i)}`);
      if (top.tag !== name) {
        throw parseError(
          `Unmatched end tag at byte offset ${byteOffset(input, i)}, expected "</${top.tag}>", found "</${name}>"`,
        );
      }
      const length = out.length - top.offset;
      if (top.entity !== undefined && length > 0) {
        entities.push({ ...top.entity, offset: top.offset, length });
      }
    } else {
      const match = /^([a-zA-Z][a-zA-Z0-9-]*)([\s\S]*)$/.exec(raw);
      if (match === null) throw parseError(`Empty tag name at byte offset ${byteOffset(input, i)}`);
      const tag = (match[1] ?? '').toLowerCase();
      const attrs = parseAttributes(match[2] ?? '');
      stack.push({ tag, offset: out.length, entity: htmlEntity(tag, attrs, stack, input, i) });
    }
    i = close + 1;
  }
  const open = stack.at(-1);
  if (open !== undefined) throw parseError(`Can't find end tag corresponding to start tag "${open.tag}"`);
  return { text: out, entities: sortEntities(entities) };
}

function codePoint(value: number): string | undefined {
  if (!Number.isFinite(value) || value < 0 || value > 0x10ffff) return undefined;
  return String.fromCodePoint(value);
}

function parseAttributes(source: string): Map<string, string> {
  const attrs = new Map<string, string>();
  const re = /([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  for (const m of source.matchAll(re)) {
    attrs.set((m[1] ?? '').toLowerCase(), m[2] ?? m[3] ?? m[4] ?? '');
  }
  return attrs;
}

function htmlEntity(
  tag: string,
  attrs: Map<string, string>,
  stack: OpenTag[],
  input: string,
  index: number,
): OpenTag['entity'] {
  switch (tag) {
    case 'b':
    case 'strong':
      return { type: 'bold' };
    case 'i':
    case 'em':
      return { type: 'italic' };
    case 'u':
    case 'ins':
      return { type: 'underline' };
    case 's':
    case 'strike':
    case 'del':
      return { type: 'strikethrough' };
    case 'tg-spoiler':
      return { type: 'spoiler' };
    case 'span':
      if (attrs.get('class') !== 'tg-spoiler') throw parseError(`Tag "span" must have class "tg-spoiler" at byte offset ${byteOffset(input, index)}`);
      return { type: 'spoiler' };
    case 'a': {
      const href = attrs.get('href');
      if (href === undefined || href === '') return undefined;
      const mention = /^tg:\/\/user\?id=(\d+)$/.exec(href);
      if (mention !== null) return { type: 'text_mention', user: { id: Number(mention[1]), is_bot: false, first_name: '' } };
      return { type: 'text_link', url: href };
    }
    case 'code': {
      const parent = stack.at(-1);
      const language = /^language-(.+)$/.exec(attrs.get('class') ?? '')?.[1];
      if (parent?.tag === 'pre' && parent.entity !== undefined && language !== undefined) {
        parent.entity = { type: 'pre', language };
        return undefined;
      }
      return { type: 'code' };
    }
    case 'pre':
      return { type: 'pre' };
    case 'blockquote':
      return { type: attrs.has('expandable') ? 'expandable_blockquote' : 'blockquote' };
    case 'tg-emoji': {
      const id = attrs.get('emoji-id');
      if (id === undefined) throw parseError(`Tag "tg-emoji" must have attribute "emoji-id" at byte offset ${byteOffset(input, index)}`);
      return { type: 'custom_emoji', custom_emoji_id: id };
    }
    default:
      throw parseError(`Unsupported start tag "${tag}" at byte offset ${byteOffset(input, index)}`);
  }
}

const MARKDOWN_V2_RESERVED = new Set('_*[]()~`>#+-=|{}.!'.split(''));
const V2_NAMES: Record<string, string> = {
  bold: 'Bold',
  italic: 'Italic',
  underline: 'Underline',
  strikethrough: 'Strikethrough',
  spoiler: 'Spoiler',
  text_link: 'TextUrl',
};

interface OpenMarker {
  type: string;
  offset: number;
  sourceIndex: number;
}

function parseMarkdownV2(input: string): FormattedText {
  let out = '';
  const entities: TgMessageEntity[] = [];
  const stack: OpenMarker[] = [];
  let i = 0;
  let lineStart = true;
  let quote: { offset: number } | undefined;
  const toggle = (type: string, width: number): void => {
    const at = stack.findLastIndex((m) => m.type === type);
    if (at >= 0) {
      const [open] = stack.splice(at, 1);
      if (open !== undefined && out.length > open.offset) {
        entities.push({ type, offset: open.offset, length: out.length - open.offset });
      }
    } else {
      stack.push({ type, offset: out.length, sourceIndex: i });
    }
    i += width;
  };
  while (i < input.length) {
    const ch = input[i] ?? '';
    if (lineStart) {
      lineStart = false;
      if (ch === '>') {
        quote ??= { offset: out.length };
        i += 1;
        continue;
      }
      if (quote !== undefined) {
        // The quote ended on the previous line (its newline is not part of it).
        const end = out.endsWith('\n') ? out.length - 1 : out.length;
        if (end > quote.offset) entities.push({ type: 'blockquote', offset: quote.offset, length: end - quote.offset });
        quote = undefined;
      }
    }
    if (ch === '\\') {
      const next = input[i + 1];
      if (next === undefined) throw parseError(`Character '\\' is reserved and must be escaped with the preceding '\\'`);
      out += next;
      i += 2;
      continue;
    }
    if (ch === '\n') {
      out += ch;
      i += 1;
      lineStart = true;
      continue;
    }
    if (ch === '`') {
      const fence = input.startsWith('```', i);
      const width = fence ? 3 : 1;
      const end = findUnescaped(input, fence ? '```' : '`', i + width);
      if (end < 0) throw parseError(`Can't find end of ${fence ? 'Pre' : 'Code'} entity at byte offset ${byteOffset(input, i)}`);
      let body = input.slice(i + width, end);
      let language: string | undefined;
      if (fence) {
        const nl = body.indexOf('\n');
        if (nl > 0 && /^[\w+-]+$/.test(body.slice(0, nl))) {
          language = body.slice(0, nl);
          body = body.slice(nl + 1);
        } else if (nl === 0) body = body.slice(1);
      }
      const text = body.replace(/\\([\\`])/g, '$1');
      if (text.length > 0) {
        entities.push({ type: fence ? 'pre' : 'code', offset: out.length, length: text.length, ...(language === undefined ? {} : { language }) });
      }
      out += text;
      i = end + width;
      continue;
    }
    if (ch === '*') {
      toggle('bold', 1);
      continue;
    }
    if (ch === '_') {
      if (input[i + 1] === '_') toggle('underline', 2);
      else toggle('italic', 1);
      continue;
    }
    if (ch === '~') {
      toggle('strikethrough', 1);
      continue;
    }
    if (ch === '|' && input[i + 1] === '|') {
      toggle('spoiler', 2);
      continue;
    }
    if (ch === '[') {
      stack.push({ type: 'text_link', offset: out.length, sourceIndex: i });
      i += 1;
      continue;
    }
    if (ch === ']') {
      const at = stack.findLastIndex((m) => m.type === 'text_link');
      if (at >= 0 && input[i + 1] === '(') {
        const end = findUnescaped(input, ')', i + 2);
        if (end < 0) throw parseError(`Can't find end of a URL at byte offset ${byteOffset(input, i + 1)}`);
        const url = input.slice(i + 2, end).replace(/\\([\\)])/g, '$1');
        const [open] = stack.splice(at, 1);
        if (open !== undefined && out.length > open.offset) {
          entities.push({ type: 'text_link', offset: open.offset, length: out.length - open.offset, url });
        }
        i = end + 1;
        continue;
      }
    }
    if (MARKDOWN_V2_RESERVED.has(ch)) {
      throw parseError(`Character '${ch}' is reserved and must be escaped with the preceding '\\'`);
    }
    out += ch;
    i += 1;
  }
  if (quote !== undefined && out.length > quote.offset) {
    entities.push({ type: 'blockquote', offset: quote.offset, length: out.length - quote.offset });
  }
  const open = stack[0];
  if (open !== undefined) {
    throw parseError(`Can't find end of ${V2_NAMES[open.type] ?? open.type} entity at byte offset ${byteOffset(input, open.sourceIndex)}`);
  }
  return { text: out, entities: sortEntities(entities) };
}

function findUnescaped(input: string, needle: string, from: number): number {
  let i = from;
  while (i < input.length) {
    if (input[i] === '\\') {
      i += 2;
      continue;
    }
    if (input.startsWith(needle, i)) return i;
    i += 1;
  }
  return -1;
}

function parseMarkdownLegacy(input: string): FormattedText {
  let out = '';
  const entities: TgMessageEntity[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input[i] ?? '';
    if (ch === '\\' && i + 1 < input.length && '_*`['.includes(input[i + 1] ?? '')) {
      out += input[i + 1];
      i += 2;
      continue;
    }
    const simple: Record<string, string> = { '*': 'bold', _: 'italic', '`': 'code' };
    if (ch === '`' && input.startsWith('```', i)) {
      const end = input.indexOf('```', i + 3);
      if (end < 0) throw parseError(`Can't find end of the entity starting at byte offset ${byteOffset(input, i)}`);
      const text = input.slice(i + 3, end);
      if (text.length > 0) entities.push({ type: 'pre', offset: out.length, length: text.length });
      out += text;
      i = end + 3;
      continue;
    }
    const type = simple[ch];
    if (type !== undefined) {
      const end = input.indexOf(ch, i + 1);
      if (end < 0) throw parseError(`Can't find end of the entity starting at byte offset ${byteOffset(input, i)}`);
      const text = input.slice(i + 1, end);
      if (text.length > 0) entities.push({ type, offset: out.length, length: text.length });
      out += text;
      i = end + 1;
      continue;
    }
    if (ch === '[') {
      const close = input.indexOf(']', i + 1);
      if (close < 0 || input[close + 1] !== '(') throw parseError(`Can't find end of the entity starting at byte offset ${byteOffset(input, i)}`);
      const end = input.indexOf(')', close + 2);
      if (end < 0) throw parseError(`Can't find end of the entity starting at byte offset ${byteOffset(input, i)}`);
      const text = input.slice(i + 1, close);
      if (text.length > 0) entities.push({ type: 'text_link', offset: out.length, length: text.length, url: input.slice(close + 2, end) });
      out += text;
      i = end + 1;
      continue;
    }
    out += ch;
    i += 1;
  }
  return { text: out, entities: sortEntities(entities) };
}

const COMMAND_RE = /(^|\s)(\/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?)(?=$|\s|[.,!?;:])/g;

/** bot_command entities as the client marks them in a text a person typed. */
export function detectCommands(text: string): TgMessageEntity[] {
  const entities: TgMessageEntity[] = [];
  for (const m of text.matchAll(COMMAND_RE)) {
    const offset = (m.index ?? 0) + (m[1] ?? '').length;
    entities.push({ type: 'bot_command', offset, length: (m[2] ?? '').length });
  }
  return entities;
}
