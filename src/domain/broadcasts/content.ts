/**
 * What a broadcast says: a text per language (or a picture with a caption), optional link
 * buttons, and the placeholders {firstName}, {points}, {tier} filled in per customer, in
 * the customer's language. The text is plain text on both platforms: what the admin typed
 * and what a customer's name contains is shown literally (no parse_mode on Telegram, VK has
 * no markup), so a name like "<b>" or "*x*" can neither break a send nor inject formatting.
 */
import { clip } from '../../lib/clip.js';
import { DomainError } from '../../errors.js';
import type { OutboundCall, Platform } from '../../channels/outbound.js';

export type LocalizedText = Record<string, string>;

export interface BroadcastButton {
  text: LocalizedText;
  url: string;
}

export interface BroadcastContent {
  text: LocalizedText;
  imageUrl?: string | null;
  buttons?: BroadcastButton[] | null;
}

export const PLACEHOLDERS = ['firstName', 'points', 'tier'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** Telegram: text 4096, caption 1024 (VK allows 9000, so Telegram's limits bind both). */
export const TEXT_MAX = 4096;
export const CAPTION_MAX = 1024;
export const BUTTONS_MAX = 5;
/** VK's label limit (Telegram's is longer). */
export const BUTTON_LABEL_MAX = 40;

function fail(field: string, message: string): never {
  throw new DomainError('invalid_input', `${field}: ${message}`, { field });
}

function checkTemplate(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value.trim() === '') fail(field, 'expected a non-empty text');
  if (value.length > max) fail(field, `at most ${max} characters`);
  for (const m of value.matchAll(/\{([^{}\s]*)\}/g)) {
    if (!(PLACEHOLDERS as readonly string[]).includes(m[1]!)) fail(field, `unknown placeholder {${m[1]}}; known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`);
  }
  return value;
}

function localized(value: unknown, field: string, languages: readonly string[], defaultLanguage: string, max: number): LocalizedText {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(field, 'expected an object with a text per language');
  const out: LocalizedText = {};
  for (const [lang, text] of Object.entries(value as Record<string, unknown>)) {
    if (!languages.includes(lang)) fail(`${field}.${lang}`, `not one of the shop's languages (${languages.join(', ')})`);
    out[lang] = checkTemplate(text, `${field}.${lang}`, max);
  }
  if (out[defaultLanguage] === undefined) fail(`${field}.${defaultLanguage}`, `required: customers in a language without a text get the ${defaultLanguage} one`);
  return out;
}

function httpUrl(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length > 2048) fail(field, 'expected an http(s) URL');
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
    return value;
  } catch {
    fail(field, 'expected an http(s) URL');
  }
}

/** Validates untrusted content (admin API, staff wizard) against the shop's languages. */
export function parseContent(input: { text: unknown; imageUrl?: unknown; buttons?: unknown }, languages: readonly string[], defaultLanguage: string): BroadcastContent {
  const imageUrl = input.imageUrl === undefined || input.imageUrl === null ? null : httpUrl(input.imageUrl, 'imageUrl');
  const text = localized(input.text, 'text', languages, defaultLanguage, imageUrl ? CAPTION_MAX : TEXT_MAX);
  let buttons: BroadcastButton[] | null = null;
  if (input.buttons !== undefined && input.buttons !== null) {
    if (!Array.isArray(input.buttons)) fail('buttons', 'expected an array');
    if (input.buttons.length > BUTTONS_MAX) fail('buttons', `at most ${BUTTONS_MAX} buttons`);
    buttons = input.buttons.map((b: unknown, i) => {
      if (typeof b !== 'object' || b === null) fail(`buttons.${i}`, 'expected { text, url }');
      const button = b as Record<string, unknown>;
      const label = localized(button.text, `buttons.${i}.text`, languages, defaultLanguage, BUTTON_LABEL_MAX);
      for (const [lang, l] of Object.entries(label)) if (/\{/.test(l)) fail(`buttons.${i}.text.${lang}`, 'placeholders are for the message text, not buttons');
      return { text: label, url: httpUrl(button.url, `buttons.${i}.url`) };
    });
    if (buttons.length === 0) buttons = null;
  }
  return { text, imageUrl, buttons };
}

/** The values a placeholder takes for one customer, already in the customer's language. */
export type PlaceholderValues = Record<Placeholder, string>;

export interface RenderedMessage {
  text: string;
  imageUrl: string | null;
  buttons: Array<{ text: string; url: string }>;
}

/** Picks the customer's language, else the shop's default. */
export function pick(text: LocalizedText, language: string, defaultLanguage: string): string {
  return text[language] ?? text[defaultLanguage] ?? Object.values(text)[0] ?? '';
}

/** Fills the placeholders in one pass (a value containing "{points}" is not expanded again). */
export function fillPlaceholders(template: string, values: PlaceholderValues): string {
  return template.replace(/\{(firstName|points|tier)\}/g, (_m, key: Placeholder) => values[key]);
}

export function renderMessage(content: BroadcastContent, language: string, defaultLanguage: string, values: PlaceholderValues): RenderedMessage {
  const max = content.imageUrl ? CAPTION_MAX : TEXT_MAX;
  return {
    text: clip(fillPlaceholders(pick(content.text, language, defaultLanguage), values), max),
    imageUrl: content.imageUrl ?? null,
    buttons: (content.buttons ?? []).map((b) => ({ text: pick(b.text, language, defaultLanguage), url: b.url })),
  };
}

/** The Telegram Bot API call for a rendered message (plain text, URL buttons one per row). */
export function telegramCall(message: RenderedMessage, chatId: string): OutboundCall {
  const reply_markup = message.buttons.length > 0 ? { inline_keyboard: message.buttons.map((b) => [{ text: b.text, url: b.url }]) } : undefined;
  if (message.imageUrl) {
    return { method: 'sendPhoto', payload: { chat_id: chatId, photo: message.imageUrl, caption: message.text, ...(reply_markup ? { reply_markup } : {}) } };
  }
  return { method: 'sendMessage', payload: { chat_id: chatId, text: message.text, link_preview_options: { is_disabled: false }, ...(reply_markup ? { reply_markup } : {}) } };
}

/** messages.send parameters for VK (without peers and random_id): plain text and an inline keyboard of links. */
export function vkParams(message: RenderedMessage, attachment: string | null): Record<string, string> {
  const params: Record<string, string> = { message: message.text, dont_parse_links: '0' };
  if (attachment) params.attachment = attachment;
  if (message.buttons.length > 0) {
    params.keyboard = JSON.stringify({ inline: true, buttons: message.buttons.map((b) => [{ action: { type: 'open_link', link: b.url, label: clip(b.text, BUTTON_LABEL_MAX) } }]) });
  }
  return params;
}

export const PLATFORM_LABEL: Record<Platform, string> = { telegram: 'Telegram', vk: 'VK' };
