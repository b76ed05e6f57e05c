import type { TFunction } from '../../infra/i18n.js';

/** What a renderer needs: the language's t, the language and the display time zone. */
export interface View {
  t: TFunction;
  lang: string;
  timeZone: string;
  shopName: string;
}

export interface Screen {
  text: string;
  /** Inline buttons; or, for the main menu on channels with a menu keyboard, that keyboard. */
  keyboard: import('grammy').InlineKeyboard | import('grammy').Keyboard;
}
