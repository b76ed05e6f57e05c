/**
 * The one shape for "send this to that person" across platforms: a Telegram Bot API call
 * (sendMessage, sendPhoto, ...) with Telegram's payload. Telegram executes it as is; VK turns
 * it into its own API call through the bridge's method table. Notifications, broadcasts and
 * operator replies all speak this, so none of them knows which platform it writes to.
 */
import type { Platform } from '../generated/prisma/enums.js';

export type { Platform };

export interface OutboundCall {
  method: 'sendMessage' | 'sendPhoto' | 'copyMessage';
  /** Telegram-shaped payload; chat_id is the identity's chatId. */
  payload: Record<string, unknown>;
  /**
   * The same key for every attempt of one logical message (the notification or delivery id).
   * A sender whose platform drops repeats (VK: random_id derived from it) uses it; Telegram
   * has no such field and ignores it.
   */
  idempotencyKey?: string;
}

export interface SendResult {
  /** The platform's id of the message sent. */
  messageId: string;
}

/** Why a send did not go out, as a sender must classify it. */
export type SendFailureKind =
  /** 429 / VK 6, 9: wait retryAfterSeconds, then the same message goes out. */
  | 'rate_limited'
  /** 403 blocked by the user / VK 901, 902: mark the identity blocked, stop sending to it. */
  | 'blocked'
  /** 400 chat not found and other permanent errors: do not retry. */
  | 'permanent'
  /** Network errors, 5xx: retry with backoff. */
  | 'transient';

export class SendFailure extends Error {
  override name = 'SendFailure';
  constructor(
    readonly kind: SendFailureKind,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export interface OutboundSender {
  readonly platform: Platform;
  /** True when the platform drops a repeat carrying the same idempotencyKey (VK). */
  readonly idempotent?: boolean;
  /** The longest one send can stay in flight before it times out (bounds a claim's lease). */
  readonly requestTimeoutMs?: number;
  /** Throws SendFailure when the platform refused. */
  send(call: OutboundCall): Promise<SendResult>;
}
