/**
 * The VK Callback API endpoint. Unlike vk-io's getWebhookCallback (which answers "ok"
 * before handling, so a crash loses the event), this answers "ok" only after the event was
 * handled — by the brain, under its per-chat lock — and otherwise a 5xx so VK delivers it
 * again with the same event_id.
 *
 * - confirmation → the confirmation code (text/plain);
 * - another group or a wrong `secret` (constant-time comparison) → 403 "forbidden", nothing
 *   handled;
 * - dedup by event_id in Redis: "processing" (short lease, so a crashed instance's event is
 *   retried) then "done" (a day); a retry arriving while the first is still running gets 409
 *   and VK tries again later; a retry after success gets "ok" and is not handled again.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Update } from 'grammy/types';
import type { Logger } from '../../infra/logger.js';
import type { Redis } from '../../infra/redis.js';
import type { VkBridge } from './method-table.js';
import type { ConvertedEvent, UpdateConverter, VkCallbackEvent } from './update-converter.js';
import { secretMatches } from '../../lib/secure-compare.js';

export interface VkCallbackDeps {
  groupId: number;
  secret: string;
  confirmationCode: string;
  redis: Redis;
  /** e.g. "kabinet:vk:<groupId>:" */
  keyPrefix: string;
  converter: UpdateConverter;
  bridge: VkBridge;
  /** Hands a converted update to the brain (per-chat lock included); resolves when handled. */
  handleUpdate(update: Update, chat: { peerId: number; userId: number }): Promise<void>;
  /** message_allow / message_deny. */
  setPermission(userId: number, allowed: boolean): Promise<void>;
  logger: Logger;
  path?: string;
  /** How long an event stays "processing" before a retry may take it over. */
  processingLeaseSeconds?: number;
}


const bodySchema = {
  type: 'object',
  required: ['type', 'group_id'],
  properties: {
    type: { type: 'string', maxLength: 64 },
    group_id: { type: 'integer' },
    event_id: { type: 'string', maxLength: 128 },
    secret: { type: 'string', maxLength: 256 },
    v: { type: 'string' },
    object: { type: 'object' },
  },
} as const;

export const vkCallbackPlugin: FastifyPluginAsync<VkCallbackDeps> = async (app, deps) => {
  const lease = deps.processingLeaseSeconds ?? 60;
  const key = (eventId: string) => `${deps.keyPrefix}event:${eventId}`;

  async function handle(converted: ConvertedEvent): Promise<void> {
    switch (converted.kind) {
      case 'update':
        return deps.handleUpdate(converted.update, { peerId: converted.peerId, userId: converted.userId });
      case 'page': {
        const turned = await deps.bridge.turnPage({
          token: converted.token,
          page: converted.page,
          peerId: converted.peerId,
          ...(converted.conversationMessageId !== undefined ? { conversationMessageId: converted.conversationMessageId } : {}),
        });
        if (converted.eventId) await deps.bridge.ackEvent({ eventId: converted.eventId, userId: converted.userId, peerId: converted.peerId }).catch(() => undefined);
        if (!turned) deps.logger.info({ peerId: converted.peerId }, 'vk: expired keyboard page pressed');
        return;
      }
      case 'permission':
        return deps.setPermission(converted.userId, converted.allowed);
      case 'ignored':
        deps.logger.debug({ reason: converted.reason }, 'vk: event ignored');
        return;
    }
  }

  app.post(deps.path ?? '/vk/callback', { schema: { body: bodySchema } }, async (request, reply) => {
    const event = request.body as VkCallbackEvent;
    reply.type('text/plain; charset=utf-8');
    if (event.group_id !== deps.groupId) return reply.status(403).send('forbidden');
    if (event.type === 'confirmation') return reply.send(deps.confirmationCode);
    if (!secretMatches(event.secret, deps.secret)) {
      deps.logger.warn({ type: event.type }, 'vk: callback with a wrong secret refused');
      return reply.status(403).send('forbidden');
    }
    if (!event.event_id) return reply.status(400).send('event_id is required');

    const k = key(event.event_id);
    const taken = await deps.redis.set(k, 'processing', 'EX', lease, 'NX');
    if (taken !== 'OK') {
      const state = await deps.redis.get(k);
      if (state === 'done') return reply.send('ok');
      // Still being handled elsewhere (or just now): VK retries later.
      return reply.status(409).send('in progress');
    }
    try {
      await handle(await deps.converter.convert(event));
    } catch (err) {
      await deps.redis.del(k).catch(() => undefined);
      deps.logger.error({ err, type: event.type, eventId: event.event_id }, 'vk: event handling failed; VK will retry');
      return reply.status(500).send('retry');
    }
    await deps.redis.set(k, 'done', 'EX', 86_400);
    return reply.send('ok');
  });
};
