/**
 * Operator → customer, on the customer's messenger. Telegram: the customer bot sends the text,
 * or uploads the file again (the staff bot's file_id means nothing to it). VK: messages.send,
 * photos uploaded through the bridge; a kind VK cannot take from a bot (documents, voice,
 * stickers here) arrives as a clear line naming the file. Refusals are SendFailure, classified
 * the way the send queues classify them.
 */
import { Api, InputFile } from 'grammy';
import type { Attachment, Recipient } from '../domain/support/support.service.js';
import { classifyTelegramError } from '../channels/telegram-sender.js';
import { SendFailure } from '../channels/outbound.js';
import type { VkBridge } from '../channels/vk/method-table.js';
import { toSendFailure } from '../channels/vk/errors.js';
import type { InlineButtons } from '../bot/features/support-callbacks.js';

export interface CustomerMessenger {
  /** Plain text (no markup is parsed), with optional buttons; returns the platform's message id. */
  sendText(to: Recipient, text: string, keyboard?: InlineButtons): Promise<string>;
  /** A file; `undefined` when this platform cannot carry this kind (the caller says so in text). */
  sendFile(to: Recipient, file: { kind: Attachment['kind']; data: Buffer; fileName: string }, caption?: string): Promise<string | undefined>;
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
  const exec = async (method: string, payload: Record<string, unknown>) => {
    try {
      const sent = (await bridge.execute(method, payload)) as { message_id: number };
      return String(sent.message_id);
    } catch (err) {
      throw toSendFailure(err, method);
    }
  };
  return {
    sendText: (to, text, keyboard) => exec('sendMessage', { chat_id: to.chatId, text, ...(keyboard ? { reply_markup: keyboard } : {}) }),
    async sendFile(to, file, caption) {
      if (file.kind !== 'photo') return undefined;
      return exec('sendPhoto', { chat_id: to.chatId, photo: new InputFile(file.data, file.fileName), ...(caption ? { caption } : {}) });
    },
  };
}

export { SendFailure };
