/** The reply keyboard that shares the person's own phone (channels with requestContact only). */
import { Keyboard } from 'grammy';
import type { TFunction } from '../../infra/i18n.js';

/** One button, under the input field, until it is used. The label carries its own icon. */
export function shareContactKeyboard(t: TFunction): Keyboard {
  return new Keyboard().requestContact(t('auth.share')).resized().oneTime();
}
