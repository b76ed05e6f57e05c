import { badRequest, ERRORS } from './errors.js';
import type { TgChatType, TgInlineKeyboardMarkup, TgReplyMarkup } from './types.js';

const INLINE_ACTIONS = [
  'url',
  'callback_data',
  'web_app',
  'login_url',
  'switch_inline_query',
  'switch_inline_query_current_chat',
  'switch_inline_query_chosen_chat',
  'copy_text',
  'callback_game',
  'pay',
] as const;

const MAX_BUTTONS = 100;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const markupParseError = (): Error => badRequest("can't parse reply keyboard markup JSON object");
const buttonError = (text: string): Error => badRequest(`can't parse inline keyboard button: ${text}`);

/** Validates reply_markup as the Bot API does (a useful subset) and returns it unchanged. */
export function validateReplyMarkup(markup: unknown, chatType: TgChatType): TgReplyMarkup {
  if (!isObject(markup)) throw markupParseError();
  if ('inline_keyboard' in markup) {
    validateInlineKeyboard(markup['inline_keyboard']);
    return markup;
  }
  if ('keyboard' in markup) {
    const rows = markup['keyboard'];
    if (!Array.isArray(rows)) throw badRequest('field "keyboard" of the ReplyKeyboardMarkup must be an Array');
    let count = 0;
    for (const row of rows) {
      if (!Array.isArray(row)) throw badRequest('field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays');
      for (const button of row as unknown[]) {
        count += 1;
        if (typeof button === 'string') continue;
        if (!isObject(button)) throw badRequest("can't parse keyboard button: KeyboardButton must be a String or an Object");
        if (typeof button['text'] !== 'string') throw badRequest(`can't parse keyboard button: Field "text" must be of type String`);
        if (button['request_contact'] === true && chatType !== 'private') {
          throw badRequest('phone number can be requested in private chats only');
        }
        if (button['request_location'] === true && chatType !== 'private') {
          throw badRequest('location can be requested in private chats only');
        }
      }
    }
    if (count > 300) throw badRequest('reply markup is too long');
    return markup;
  }
  if ('remove_keyboard' in markup) {
    if (markup['remove_keyboard'] !== true) throw markupParseError();
    return markup;
  }
  if ('force_reply' in markup) {
    if (markup['force_reply'] !== true) throw markupParseError();
    return markup;
  }
  throw markupParseError();
}

function validateInlineKeyboard(rows: unknown): asserts rows is TgInlineKeyboardMarkup['inline_keyboard'] {
  if (!Array.isArray(rows)) throw badRequest('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array');
  let count = 0;
  for (const row of rows) {
    if (!Array.isArray(row)) throw badRequest('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays');
    for (const button of row as unknown[]) {
      count += 1;
      if (!isObject(button)) throw buttonError('InlineKeyboardButton must be an Object');
      if (typeof button['text'] !== 'string') throw buttonError('Field "text" must be of type String');
      const actions = INLINE_ACTIONS.filter((key) => button[key] !== undefined);
      if (actions.length === 0) throw buttonError('Text buttons are unallowed in the inline keyboard');
      const data = button['callback_data'];
      if (data !== undefined) {
        if (typeof data !== 'string') throw buttonError('Field "callback_data" must be of type String');
        const bytes = Buffer.byteLength(data);
        if (bytes < 1 || bytes > 64) throw badRequest(ERRORS.buttonDataInvalid);
      }
      const url = button['url'];
      if (url !== undefined) {
        if (typeof url !== 'string' || !/^(https?|tg):\/\/\S+$/i.test(url)) throw badRequest(ERRORS.buttonUrlInvalid);
      }
    }
  }
  if (count > MAX_BUTTONS) throw badRequest('reply markup is too long');
}

/** The part of reply_markup that a Message object carries (inline keyboards only). */
export function inlinePart(markup: TgReplyMarkup | undefined): TgInlineKeyboardMarkup | undefined {
  if (markup === undefined || !('inline_keyboard' in markup)) return undefined;
  return markup as unknown as TgInlineKeyboardMarkup;
}
