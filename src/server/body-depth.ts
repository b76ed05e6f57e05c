/**
 * A preValidation hook for routes that take JSON through a plain parser (the webhooks of
 * Telegram's bots, the VK callback): a body nested deeper than the platform ever nests is
 * refused with a 400 before the schema, the handler or JSON.stringify walk it (see
 * src/lib/json-depth.ts).
 */
import type { FastifyRequest } from 'fastify';
import { DomainError } from '../errors.js';
import { clipUtf16 } from '../lib/clip.js';
import { findTooDeep } from '../lib/json-depth.js';

/** Telegram nests an update a few levels (a message, the message it replies to, their entities). */
export const TELEGRAM_MAX_DEPTH = 64;
/** VK nests forwarded messages inside forwarded messages (two levels each), so it gets more room. */
export const VK_MAX_DEPTH = 256;

export function refuseDeepBody(maxDepth: number): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    const deep = findTooDeep(request.body, maxDepth);
    if (deep === null) return;
    const field = clipUtf16(deep || 'body', 200);
    throw new DomainError('invalid_input', `${field} is nested deeper than ${maxDepth} levels`, { field });
  };
}
