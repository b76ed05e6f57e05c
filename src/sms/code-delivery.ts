/**
 * Wires one-time code delivery for the phone-login domain: SMS through the configured
 * provider, or — when the customer with that phone already uses the shop's Telegram bot —
 * a message in that Telegram chat through the Telegram OutboundSender. Texts come from
 * locales (otp.message, otp.message_messenger).
 */
import type { OutboundSender, Platform } from '../channels/outbound.js';
import type { Config } from '../config/index.js';
import type { CodeDelivery } from '../domain/phone-login/phone-login.service.js';
import type { Translator } from '../infra/i18n.js';
import type { Logger } from '../infra/logger.js';
import { createSmsSender, type SmsSender } from './index.js';

export interface CodeDeliveryDeps {
  config: Config;
  logger: Logger;
  translator: Translator;
  /** Senders of messenger platforms that may carry a code (Telegram's). */
  messengers?: Map<Platform, OutboundSender>;
  sms?: SmsSender;
}

export function createCodeDelivery(deps: CodeDeliveryDeps): CodeDelivery {
  const sms = deps.sms ?? createSmsSender(deps.config, deps.logger);
  const messengers = deps.messengers;
  return {
    sms,
    ...(messengers && messengers.size > 0
      ? {
          messenger: {
            async send(to, text) {
              const sender = messengers.get(to.platform);
              if (!sender) throw new Error(`no sender for ${to.platform}`);
              await sender.send({ method: 'sendMessage', payload: { chat_id: to.chatId, text } });
            },
          },
        }
      : {}),
    text({ code, language, via, ttlMinutes }) {
      const t = deps.translator.t(language);
      return t(via === 'sms' ? 'otp.message' : 'otp.message_messenger', { shop: deps.config.shop.name, code, minutes: ttlMinutes });
    },
  };
}
