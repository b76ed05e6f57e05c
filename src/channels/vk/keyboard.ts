/**
 * Telegram reply markup → VK keyboards, within VK's limits and without ever dropping a
 * button:
 * - inline_keyboard → inline VK keyboard; callback_data → a callback button whose payload
 *   is {"d": data} (or {"t": token} when it would not fit 255 characters); url → open_link.
 * - keyboard (reply) → VK's persistent keyboard of text buttons; a label cut to 40
 *   characters carries the full text in its payload ({"x": text}) so the brain still hears
 *   exactly what it offered.
 * - remove_keyboard → an empty one-time keyboard (hides the persistent one).
 * - Too many buttons (inline 6 rows × 5 and 10 buttons; persistent 10 × 5 and 40) → pages:
 *   each page keeps room for a navigation row ("◀ 1/3", "▶ 3/3") whose payload
 *   {"vkp": token, "n": page} the bridge handles itself by showing that page. Rows wider than
 *   5 are wrapped. The page record in Redis holds only the page keyboards (never the
 *   message's text: a page turn reads that from VK), lives PAGES_TTL_SECONDS, is scoped to
 *   its chat, and is one key per message (an edit of a message rewrites the message's key)
 *   or, for the persistent keyboard, one per chat.
 */
import { clip } from '../../lib/clip.js';
import { UnsupportedPayloadError } from './errors.js';
import type { PayloadStore } from './payload-store.js';

export const VK_LIMITS = {
  inline: { rows: 6, perRow: 5, total: 10 },
  persistent: { rows: 10, perRow: 5, total: 40 },
  label: 40,
  payload: 255,
} as const;

export interface VkButton {
  action: { type: 'callback' | 'text' | 'open_link'; label: string; payload?: string; link?: string };
  color?: 'primary' | 'secondary';
}

export interface VkKeyboard {
  inline?: boolean;
  one_time?: boolean;
  buttons: VkButton[][];
}

/** What a page-turn button points at: the pages and nothing else. */
export interface KeyboardPages {
  inline: boolean;
  pages: VkKeyboard[];
}

/** Page records live a day: paging is what a person does now, not next month. */
export const PAGES_TTL_SECONDS = 86_400;
/** Page records are scoped to their chat: a token pressed in another chat finds nothing. */
export const pagesKind = (peerId: number) => `pages:${peerId}`;
/** The one page record of a chat's persistent keyboard (VK shows one at a time). */
const PERSISTENT_PAGES_TOKEN = 'keyboard';
/** The page record of one message, rewritten by every edit of it. */
const messagePagesToken = (conversationMessageId: number) => `message-${conversationMessageId}`;
export const CALLBACK_KIND = 'cb';
export const TEXT_KIND = 'txt';

/** The payloads the bridge itself writes into buttons. */
export type BridgePayload =
  | { d: string }
  | { t: string }
  | { x: string }
  | { xt: string }
  | { vkp: string; n: number }
  | { command: string };

export function parseBridgePayload(raw: unknown): BridgePayload | undefined {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      return undefined;
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.d === 'string') return { d: v.d };
  if (typeof v.t === 'string') return { t: v.t };
  if (typeof v.x === 'string') return { x: v.x };
  if (typeof v.xt === 'string') return { xt: v.xt };
  if (typeof v.vkp === 'string' && Number.isInteger(v.n)) return { vkp: v.vkp, n: v.n as number };
  if (typeof v.command === 'string') return { command: v.command };
  return undefined;
}

const fits = (payload: string) => payload.length <= VK_LIMITS.payload;

export const clipLabel = (label: string): string => clip(label, VK_LIMITS.label);

interface TgInlineButton {
  text: string;
  callback_data?: string;
  url?: string;
  [other: string]: unknown;
}

interface TgReplyButton {
  text: string;
  [other: string]: unknown;
}

export interface ConvertedMarkup {
  /** JSON for the `keyboard` parameter, or undefined for none. */
  keyboard?: string;
  inline: boolean;
  /** Set when the keyboard was split into pages. */
  pagesToken?: string;
}

/** Where the keyboard goes: the chat, and the message when it is an edit. */
export interface KeyboardTarget {
  peerId: number;
  conversationMessageId?: number;
}

export interface KeyboardConverter {
  /** Converts Telegram reply_markup; a keyboard split into pages gets its page record. */
  convert(replyMarkup: unknown, target: KeyboardTarget): Promise<ConvertedMarkup>;
}

export function createKeyboardConverter(store: PayloadStore): KeyboardConverter {
  async function inlineButton(b: TgInlineButton): Promise<VkButton> {
    if (typeof b.text !== 'string') throw new UnsupportedPayloadError('Inline button without text');
    const label = clipLabel(b.text);
    if (typeof b.callback_data === 'string') {
      let payload = JSON.stringify({ d: b.callback_data });
      if (!fits(payload)) payload = JSON.stringify({ t: await store.put(CALLBACK_KIND, b.callback_data) });
      return { action: { type: 'callback', label, payload } };
    }
    if (typeof b.url === 'string') return { action: { type: 'open_link', label, link: b.url } };
    const kind = Object.keys(b).find((k) => k !== 'text') ?? 'unknown';
    throw new UnsupportedPayloadError(`Inline button kind "${kind}" has no VK form`);
  }

  async function replyButton(b: TgReplyButton | string): Promise<VkButton> {
    const text = typeof b === 'string' ? b : b.text;
    if (typeof b === 'object') {
      const kind = Object.keys(b).find((k) => k !== 'text');
      // request_contact, request_location, web_app...: the brain must ask capabilities first.
      if (kind) throw new UnsupportedPayloadError(`Reply button kind "${kind}" has no VK form`);
    }
    const label = clipLabel(text);
    const button: VkButton = { action: { type: 'text', label } };
    if (label !== text) {
      let payload = JSON.stringify({ x: text });
      if (!fits(payload)) payload = JSON.stringify({ xt: await store.put(TEXT_KIND, text) });
      button.action.payload = payload;
    }
    return button;
  }

  return {
    async convert(markup, target) {
      if (markup === undefined || markup === null) return { inline: false };
      const m = (typeof markup === 'string' ? JSON.parse(markup) : markup) as Record<string, unknown>;
      if (Array.isArray(m.inline_keyboard)) {
        const rows: VkButton[][] = [];
        for (const row of m.inline_keyboard as TgInlineButton[][]) {
          rows.push(await Promise.all(row.map(inlineButton)));
        }
        if (rows.every((r) => r.length === 0)) return { inline: true };
        return paginate(rows, true, false, target);
      }
      if (Array.isArray(m.keyboard)) {
        const rows: VkButton[][] = [];
        for (const row of m.keyboard as (TgReplyButton | string)[][]) rows.push(await Promise.all(row.map(replyButton)));
        return paginate(rows, false, m.one_time_keyboard === true, target);
      }
      if (m.remove_keyboard === true) return { inline: false, keyboard: JSON.stringify({ one_time: true, buttons: [] }) };
      // force_reply: VK has no such thing; the next typed message reaches the brain anyway.
      if (m.force_reply === true) return { inline: false };
      throw new UnsupportedPayloadError(`reply_markup ${Object.keys(m).join(',')} has no VK form`);
    },
  };

  async function paginate(rawRows: VkButton[][], inline: boolean, oneTime: boolean, target: KeyboardTarget): Promise<ConvertedMarkup> {
    const limits = inline ? VK_LIMITS.inline : VK_LIMITS.persistent;
    // Wrap rows wider than VK allows.
    const rows: VkButton[][] = [];
    for (const row of rawRows) for (let i = 0; i < row.length; i += limits.perRow) if (row.length) rows.push(row.slice(i, i + limits.perRow));
    const total = rows.reduce((n, r) => n + r.length, 0);
    const base = (buttons: VkButton[][]): VkKeyboard => (inline ? { inline: true, buttons } : { one_time: oneTime, buttons });
    if (rows.length <= limits.rows && total <= limits.total) {
      return { inline, keyboard: JSON.stringify(base(rows)) };
    }
    // Room for one navigation row of up to two buttons.
    const capacity = { rows: limits.rows - 1, total: limits.total - 2 };
    const pages: VkButton[][][] = [];
    let page: VkButton[][] = [];
    let count = 0;
    for (const row of rows) {
      if (page.length + 1 > capacity.rows || count + row.length > capacity.total) {
        pages.push(page);
        page = [];
        count = 0;
      }
      page.push(row);
      count += row.length;
    }
    if (page.length) pages.push(page);
    // A new message has no id yet: its record gets a fresh token (still one per message).
    const token = !inline ? PERSISTENT_PAGES_TOKEN : target.conversationMessageId !== undefined ? messagePagesToken(target.conversationMessageId) : store.newToken();
    // Arrows and numbers read the same in every language.
    const nav = (n: number, label: string): VkButton => ({
      action: { type: inline ? 'callback' : 'text', label, payload: JSON.stringify({ vkp: token, n }) },
    });
    const keyboards = pages.map((buttons, i) => {
      const navRow: VkButton[] = [];
      if (i > 0) navRow.push(nav(i - 1, `◀ ${i}/${pages.length}`));
      if (i < pages.length - 1) navRow.push(nav(i + 1, `▶ ${i + 2}/${pages.length}`));
      return base([...buttons, navRow]);
    });
    const record: KeyboardPages = { inline, pages: keyboards };
    await store.set(pagesKind(target.peerId), token, record, PAGES_TTL_SECONDS);
    return { inline, keyboard: JSON.stringify(keyboards[0]), pagesToken: token };
  }
}
