/**
 * VK's refusals, in one place: how a VK error code reads to the grammY brain (a Telegram-
 * shaped error, so `GrammyError` handling works unchanged) and to the send queues
 * (a SendFailure kind).
 */
import { APIError } from 'vk-io';
import { SendFailure, type SendFailureKind } from '../outbound.js';

/** A VK API error, whether vk-io threw it or it came back per peer from messages.send(peer_ids). */
export class VkCallError extends Error {
  override name = 'VkCallError';
  constructor(
    readonly code: number,
    message: string,
    readonly method: string,
  ) {
    super(`VK ${method} failed: ${code} ${message}`);
  }
}

/** The brain called a Bot API method the bridge has no VK form for. A programming error: loud. */
export class UnsupportedBotApiMethodError extends Error {
  override name = 'UnsupportedBotApiMethodError';
  constructor(readonly method: string) {
    super(`Bot API method "${method}" has no VK form in the bridge's method table (src/channels/vk/method-table.ts)`);
  }
}

/** The brain asked for something the VK form cannot express (a Telegram file_id, a non-private chat). */
export class UnsupportedPayloadError extends Error {
  override name = 'UnsupportedPayloadError';
}

/**
 * A file could not be uploaded to VK (the upload server refused it, docs.save failed, it is
 * over VK's size limit). The message itself was not sent; a caller may say so in text instead.
 */
export class VkUploadError extends Error {
  override name = 'VkUploadError';
}

export const VK_RATE_LIMITED = new Set([6, 9, 29]);
export const VK_BLOCKED = new Set([900, 901, 902]);

export function toVkCallError(err: unknown, method: string): VkCallError | undefined {
  if (err instanceof VkCallError) return err;
  if (err instanceof APIError) return new VkCallError(Number(err.code), err.message.replace(/^Code №\d+ - /, ''), method);
  return undefined;
}

/** How long to wait after a rate-limit refusal; VK gives no retry_after. */
export const VK_RETRY_AFTER_SECONDS = 1;

/** A Telegram Bot API error body for a VK refusal. */
export function toTelegramError(err: VkCallError): { ok: false; error_code: number; description: string; parameters?: { retry_after: number } } {
  if (VK_RATE_LIMITED.has(err.code)) {
    return { ok: false, error_code: 429, description: `Too Many Requests: retry after ${VK_RETRY_AFTER_SECONDS} (VK ${err.code})`, parameters: { retry_after: VK_RETRY_AFTER_SECONDS } };
  }
  if (VK_BLOCKED.has(err.code)) return { ok: false, error_code: 403, description: `Forbidden: bot was blocked by the user (VK ${err.code})` };
  if (err.method === 'messages.sendMessageEventAnswer' && err.code === 100) {
    return { ok: false, error_code: 400, description: `Bad Request: query is too old and response timeout expired or query ID is invalid (VK ${err.code})` };
  }
  if (err.method === 'messages.edit' && (err.code === 909 || err.code === 100)) {
    return { ok: false, error_code: 400, description: `Bad Request: message can't be edited (VK ${err.code})` };
  }
  return { ok: false, error_code: 400, description: `Bad Request: VK error ${err.code}: ${err.message}` };
}

/** Classifies any failure of a VK send for the send queues. */
export function toSendFailure(err: unknown, method: string): SendFailure {
  if (err instanceof SendFailure) return err;
  const vk = toVkCallError(err, method);
  if (vk) {
    let kind: SendFailureKind = 'permanent';
    if (VK_RATE_LIMITED.has(vk.code)) kind = 'rate_limited';
    else if (VK_BLOCKED.has(vk.code)) kind = 'blocked';
    // 10 internal server error: VK's own fault, worth another try.
    else if (vk.code === 10 || vk.code === 1) kind = 'transient';
    return new SendFailure(kind, vk.message, kind === 'rate_limited' ? VK_RETRY_AFTER_SECONDS : undefined);
  }
  if (err instanceof UnsupportedBotApiMethodError || err instanceof UnsupportedPayloadError || err instanceof VkUploadError) return new SendFailure('permanent', err.message);
  return new SendFailure('transient', err instanceof Error ? err.message : String(err));
}
