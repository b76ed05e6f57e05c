/**
 * Showing a screen: navigation edits the message the button belongs to (when the channel
 * can edit), a typed command or a new flow sends a new message. Telegram's "message is not
 * modified" (the same screen tapped twice) is not an error.
 */
import { GrammyError, InlineKeyboard, type Context, type Keyboard } from 'grammy';
import { clipUtf16 } from '../lib/clip.js';
import type { Channel } from './channel.js';

export interface ScreenOptions {
  /** Send a new message even when a button was pressed (e.g. after a flow ends). */
  fresh?: boolean;
}

/** Telegram's limit for a message text (VK's is 9000); counted before HTML parsing, so conservative. */
export const MAX_TEXT_LENGTH = 4096;

/**
 * Views bound what they list; this is the last guard so no screen fails with "message is
 * too long": whole lines are kept (tags never span lines in our views) and "…" marks the cut.
 */
export function fitText(text: string): string {
  if (text.length <= MAX_TEXT_LENGTH) return text;
  const kept: string[] = [];
  let length = 2;
  for (const line of text.split('\n')) {
    if (length + line.length + 1 > MAX_TEXT_LENGTH) break;
    kept.push(line);
    length += line.length + 1;
  }
  if (kept.length === 0) {
    // One enormous line: drop the markup rather than cut inside a tag or an entity.
    const plain = text.replace(/<[^>]*>/g, '');
    // An entity (&amp;) cut in half would break the HTML; an emoji cut in half, the text.
    return `${clipUtf16(plain, MAX_TEXT_LENGTH - 1).slice(0, -1).replace(/&[#a-z0-9]*$/i, '')}…`;
  }
  return `${kept.join('\n')}\n…`;
}

const NOT_MODIFIED = /message is not modified/i;
const CANNOT_EDIT = /message can't be edited|message to edit not found|there is no text in the message to edit/i;

/**
 * Drops empty rows: builders end rows eagerly (`.row()` after the last button of a loop), and
 * clients draw an empty row as a gap.
 */
export function withoutEmptyRows<K extends InlineKeyboard | Keyboard>(keyboard: K): K {
  const rows: unknown[][] = keyboard instanceof InlineKeyboard ? keyboard.inline_keyboard : keyboard.keyboard;
  for (let i = rows.length - 1; i >= 0; i--) if (rows[i]!.length === 0) rows.splice(i, 1);
  return keyboard;
}

export async function show(ctx: Context & { channel: Channel }, fullText: string, keyboard?: InlineKeyboard | Keyboard, options: ScreenOptions = {}): Promise<void> {
  const text = fitText(fullText);
  if (keyboard) withoutEmptyRows(keyboard);
  const base = { parse_mode: 'HTML' as const, link_preview_options: { is_disabled: true } };
  const message = ctx.callbackQuery?.message;
  // A menu keyboard (reply keyboard) belongs to a new message; only inline buttons can be edited in.
  const inline = keyboard === undefined || keyboard instanceof InlineKeyboard ? keyboard : undefined;
  if (message && !options.fresh && ctx.channel.capabilities.editMessages && inline === keyboard) {
    try {
      await ctx.editMessageText(text, { ...base, ...(inline ? { reply_markup: inline } : {}) });
      return;
    } catch (err) {
      if (err instanceof GrammyError && NOT_MODIFIED.test(err.description)) return;
      if (!(err instanceof GrammyError && CANNOT_EDIT.test(err.description))) throw err;
    }
  }
  await ctx.reply(text, { ...base, ...(keyboard ? { reply_markup: keyboard } : {}) });
}

/** Lays out buttons in rows of `perRow`. */
export function rows(keyboard: InlineKeyboard, buttons: Array<{ text: string; data: string } | { text: string; url: string }>, perRow = 1): InlineKeyboard {
  buttons.forEach((b, i) => {
    if ('data' in b) keyboard.text(b.text, b.data);
    else keyboard.url(b.text, b.url);
    if ((i + 1) % perRow === 0 || i === buttons.length - 1) keyboard.row();
  });
  return keyboard;
}
