/**
 * OutboundSender for Telegram: executes the call through grammY's Api against the Bot API
 * (or the fake, through apiRoot) and classifies refusals the way the send worker acts on
 * them: 429 → rate_limited with retry_after, 403 → blocked, other 4xx → permanent,
 * 5xx and network errors → transient. Calls go over the keep-alive client the customer bot
 * uses (keep-alive-fetch.ts, undici's request: a fraction of the CPU of a fetch call) as plain
 * JSON calls (telegram/json-calls.ts); no retries here, the send worker decides.
 */
import { Api, GrammyError, HttpError } from 'grammy';
import { createKeepAliveFetch } from './keep-alive-fetch.js';
import { useJsonCalls } from './telegram/json-calls.js';
import { SendFailure, type OutboundCall, type OutboundSender, type SendResult } from './outbound.js';

export interface TelegramSenderSettings {
  token: string;
  apiRoot: string;
  /** Adds allow_paid_broadcast to sends (up to 1000 msg/s, paid in Stars). */
  paidBroadcast?: boolean;
  /** Per-request timeout; a hung request must not hold a job's lock forever. */
  timeoutSeconds?: number;
}

export function classifyTelegramError(err: unknown): SendFailure {
  if (err instanceof GrammyError) {
    const retryAfter = err.parameters?.retry_after;
    if (err.error_code === 429) return new SendFailure('rate_limited', err.description, retryAfter ?? 1);
    if (err.error_code === 403) return new SendFailure('blocked', err.description);
    if (err.error_code >= 400 && err.error_code < 500) return new SendFailure('permanent', err.description);
    return new SendFailure('transient', err.description);
  }
  if (err instanceof HttpError) return new SendFailure('transient', `network error: ${(err.error as Error | undefined)?.message ?? err.message}`);
  return new SendFailure('transient', err instanceof Error ? err.message : String(err));
}

export function createTelegramSender(settings: TelegramSenderSettings): OutboundSender {
  const timeoutSeconds = settings.timeoutSeconds ?? 30;
  // Sockets: as many as sends in flight (paid broadcasts at 1000/s over a 100 ms round trip keep
  // ~100 open per process); the customer bot's 64 would queue them.
  const client = { apiRoot: settings.apiRoot, timeoutSeconds, fetch: createKeepAliveFetch({ requestTimeoutMs: timeoutSeconds * 1000 }) };
  const api = new Api(settings.token, client);
  // The sends (all plain JSON calls) skip grammY's per-call machinery (telegram/json-calls.ts);
  // the fetch's own limit stands in for grammY's timer.
  useJsonCalls(api, client);
  return {
    platform: 'telegram',
    // Telegram has no idempotency key: a repeat after an unknown outcome is a second message.
    idempotent: false,
    requestTimeoutMs: timeoutSeconds * 1000,
    async send(call: OutboundCall): Promise<SendResult> {
      const payload = settings.paidBroadcast ? { ...call.payload, allow_paid_broadcast: true } : call.payload;
      try {
        const message = (await (api.raw as unknown as Record<string, (p: Record<string, unknown>) => Promise<{ message_id: number }>>)[call.method]!(payload));
        return { messageId: String(message.message_id) };
      } catch (err) {
        throw classifyTelegramError(err);
      }
    },
  };
}
