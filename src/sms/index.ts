/**
 * Where one-time codes go when no messenger of the customer can carry them: an SMS.
 * `log` prints the message for local runs and the sandbox (the code itself only outside
 * production, clearly marked); `http` posts to an SMS provider configured by SMS_HTTP_URL.
 */
import type { Config } from '../config/index.js';
import type { Logger } from '../infra/logger.js';
import { createHttpSmsSender } from './http-sender.js';
import { createLogSmsSender } from './log-sender.js';

export interface SmsMessage {
  /** E.164 phone. */
  to: string;
  text: string;
  /** The code inside `text`, so the log sender can show it in development only. */
  code: string;
}

export interface SmsSender {
  /** 'log' | 'http': recorded on the code row as its delivery channel. */
  readonly kind: string;
  /** Throws when the provider refused; the caller reports "try again later". */
  send(message: SmsMessage): Promise<void>;
}

export { createHttpSmsSender, createLogSmsSender };

export function createSmsSender(config: Config, logger: Logger): SmsSender {
  if (config.sms.provider === 'http') {
    return createHttpSmsSender({ url: config.sms.httpUrl!, token: config.sms.httpToken, sender: config.sms.sender });
  }
  return createLogSmsSender({ logger, revealCodes: config.env !== 'production' || config.sandbox });
}
