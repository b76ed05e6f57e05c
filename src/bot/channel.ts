/**
 * What the brain knows about the messenger it talks through. Features ask capabilities
 * ("can this channel share a contact?"), never which platform it is.
 */
import type { Platform } from '../generated/prisma/enums.js';

export interface ChannelCapabilities {
  /** A reply-keyboard button that shares the user's own phone (Telegram's request_contact). */
  requestContact: boolean;
  /** Bot messages can be edited in place (editMessageText). */
  editMessages: boolean;
  /** Buttons attached to a message that send callback data. */
  inlineKeyboards: boolean;
  /** Most inline buttons one message may carry (VK: 10); undefined is "no practical limit". */
  maxInlineButtons?: number;
  /** Longest callback data in bytes (Telegram 64; VK payload 255). */
  maxCallbackDataBytes: number;
  /**
   * The main menu lives in a keyboard under the input field (VK's persistent keyboard) whose
   * buttons send their labels as text; a menu sent as a new message carries it.
   */
  menuKeyboard: boolean;
}

export interface Channel {
  platform: Platform;
  capabilities: ChannelCapabilities;
}

export const TELEGRAM_CAPABILITIES: ChannelCapabilities = {
  requestContact: true,
  editMessages: true,
  inlineKeyboards: true,
  maxCallbackDataBytes: 64,
  menuKeyboard: false,
};
