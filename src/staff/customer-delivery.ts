/**
 * Operator → customer, on the customer's messenger. Telegram: the customer bot sends the text,
 * or uploads the file again (the staff bot's file_id means nothing to it). VK: messages.send
 * through the bridge, photos uploaded as photos, documents, videos and other files as VK
 * documents, voice (ogg/opus) as a voice message; stickers cannot be sent by a community
 * (`undefined`: the caller says so in text), and a file VK refused to take is FileUnavailable
 * (the caller sends a clear line instead). Refusals of the send are SendFailure, classified the
 * way the send queues classify them.
 *
 * `idempotencyKey`: the same for every attempt of one logical send. VK derives the message's
 * random_id from it, so a repeat after a crash is dropped by VK; Telegram has no such field.
 */
import { Api, InputFile } from 'grammy';
import type { Attachment, Recipient } from '../domain/support/support.service.js';
import { classifyTelegramError } from '../channels/telegram-sender.js';
import { SendFailure } from '../channels/outbound.js';
import type { VkBridge } from '../channels/vk/method-table.js';
import { VkUploadError, toSendFailure } from '../channels/vk/errors.js';
import type { InlineButtons } from '../bot/features/support-callbacks.js';
import { FileUnavailable } from './files.js';

export interface SendOptions {
  /** The same for every attempt of one logical send (VK: random_id derived from it). */
  idempotencyKey?: string;
}

export interface CustomerMessenger {
  /** Plain text (no markup is parsed), with optional buttons; returns the platform's message id. */
  sendText(to: Recipient, text: string, keyboard?: InlineButtons, options?: SendOptions): Promise<string>;
  /**
   * A file; `undefined` when this platform cannot carry this kind, FileUnavailable when it
   * refused this file (either way the caller says so in text).
   */
  sendFile(to: Recipient, file: { kind: Attachment['kind']; data: Buffer; fileName: string }, caption?: string, options?: SendOptions): Promise<string | undefined>;
}

type TelegramMethod = 'sendPhoto' | 'sendDocument' | 'sendVoice' | 'sendAudio' | 'sendVideo' | 'sendAnimation' | 'sendVideoNote' | 'sendSticker';
const TELEGRAM_METHOD: Record<Attachment['kind'], [TelegramMethod, string]> = {
  photo: ['sendPhoto', 'photo'],
  document: ['sendDocument', 'document'],
  voice: ['sendVoice', 'voice'],
  audio: ['sendAudio', 'audio'],
  video: ['sendVideo', 'video'],
  animation: ['sendAnimation', 'animation'],
  video_note: ['sendVideoNote', 'video_note'],
  sticker: ['sendSticker', 'sticker'],
};

export function telegramCustomerMessenger(settings: { token: string; apiRoot: string }): CustomerMessenger {
  const api = new Api(settings.token, { apiRoot: settings.apiRoot, timeoutSeconds: 30 });
  const raw = api.raw as unknown as Record<string, (p: Record<string, unknown>) => Promise<{ message_id: number }>>;
  return {
    async sendText(to, text, keyboard) {
      try {
        const sent = await api.sendMessage(to.chatId, text, keyboard ? { reply_markup: keyboard } : {});
        return String(sent.message_id);
      } catch (err) {
        throw classifyTelegramError(err);
      }
    },
    async sendFile(to, file, caption) {
      const [method, field] = TELEGRAM_METHOD[file.kind];
      const withCaption = caption && method !== 'sendSticker' && method !== 'sendVideoNote' ? { caption } : {};
      try {
        const sent = await raw[method]!({ chat_id: to.chatId, [field]: new InputFile(file.data, file.fileName), ...withCaption });
        return String(sent.message_id);
      } catch (err) {
        throw classifyTelegramError(err);
      }
    },
  };
}

export function vkCustomerMessenger(bridge: VkBridge): CustomerMessenger {
  const exec = async (method: string, payload: Record<string, unknown>, options: SendOptions = {}) => {
    try {
      const sent = (await bridge.execute(method, payload, options.idempotencyKey !== undefined ? { idempotencyKey: options.idempotencyKey } : {})) as { message_id: number };
      return String(sent.message_id);
    } catch (err) {
      if (err instanceof VkUploadError) throw new FileUnavailable(err.message);
      throw toSendFailure(err, method);
    }
  };
  return {
    sendText: (to, text, keyboard, options) => exec('sendMessage', { chat_id: to.chatId, text, ...(keyboard ? { reply_markup: keyboard } : {}) }, options),
    async sendFile(to, file, caption, options) {
      // A community bot can send only stickers it owns, never one from Telegram.
      if (file.kind === 'sticker') return undefined;
      const [method, field] = TELEGRAM_METHOD[file.kind];
      return exec(method, { chat_id: to.chatId, [field]: new InputFile(file.data, file.fileName), ...(caption ? { caption } : {}) }, options);
    },
  };
}

export { SendFailure };
