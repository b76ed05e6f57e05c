/**
 * The VK Callback API endpoint.
 *
 * VK puts the secret inside the JSON body, so the body is read as text, capped at
 * VK_CALLBACK_BODY_LIMIT (256 KiB, 413 above: a message_new with a 4096-character text, a
 * replied-to message and a few forwards, every character \u-escaped, stays well under it),
 * and refused 403 without being parsed unless it carries `"secret":"<our secret>"`. Only a
 * tiny unsigned body may be parsed: VK's confirmation request has no secret. After parsing,
 * the group and the top-level `secret` (constant time) are checked before anything is done.
 *
 * - confirmation → the confirmation code (text/plain);
 * - another group or a wrong `secret` → 403 "forbidden", nothing handled;
 * - with an inbound queue (production): the event (without its secret) is recorded in the
 *   peer's durable queue, deduplicated by event_id, and "ok" answered at once; workers convert
 *   and handle it. A Redis failure answers 500 so VK delivers it again;
 * - without one (tests of the brain): handled before "ok"; dedup by event_id in Redis:
 *   "processing" (short lease) then "done" (a day); a retry arriving while the first is still
 *   running gets 409 and VK tries again later; a failure answers 500 so VK retries.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Update } from 'grammy/types';
import type { Logger } from '../../infra/logger.js';
import type { Redis } from '../../infra/redis.js';
import { tieInboundItem, type InboundConsumerOptions, type InboundItem, type InboundQueue } from '../../bot/ordering/inbound-queue.js';
import type { VkBridge } from './method-table.js';
import type { ConvertedEvent, UpdateConverter, VkCallbackEvent } from './update-converter.js';
import { secretMatches } from '../../lib/secure-compare.js';
import { refuseDeepBody, VK_MAX_DEPTH } from '../../server/body-depth.js';

export const VK_CALLBACK_BODY_LIMIT = 256 * 1024;
/** An unsigned body larger than this is not parsed (a confirmation request is ~50 bytes). */
const UNSIGNED_PARSE_LIMIT = 1024;

export interface VkEventHandlerDeps {
  converter: UpdateConverter;
  bridge: VkBridge;
  /** Hands a converted update to the brain (per-chat lock included); resolves when handled. */
  handleUpdate(update: Update, chat: { peerId: number; userId: number }): Promise<void>;
  /** message_allow / message_deny. */
  setPermission(userId: number, allowed: boolean): Promise<void>;
  logger: Logger;
}

export interface VkCallbackDeps extends VkEventHandlerDeps {
  groupId: number;
  secret: string;
  confirmationCode: string;
  redis: Redis;
  /** e.g. "kabinet:vk:<groupId>:" */
  keyPrefix: string;
  path?: string;
  /** Record and answer at once; workers handle. Absent: handle before answering. */
  inbound?: InboundQueue | undefined;
  /** How long an event stays "processing" before a retry may take it over (direct mode). */
  processingLeaseSeconds?: number;
  bodyLimitBytes?: number;
}

const bodySchema = {
  type: 'object',
  required: ['type', 'group_id'],
  properties: {
    type: { type: 'string', maxLength: 64 },
    group_id: { type: 'integer' },
    event_id: { type: 'string', minLength: 1, maxLength: 128 },
    secret: { type: 'string', maxLength: 256 },
    v: { type: 'string' },
    object: { type: 'object' },
  },
} as const;

/** What a parser returns for a body that does not carry our secret: refused before validation. */
const UNSIGNED = Symbol('unsigned VK callback body');

const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined);

/** The peer whose order an event keeps (its private dialog); events of no peer share one key. */
export function vkChatKey(event: VkCallbackEvent): string {
  const o = (event.object ?? {}) as Record<string, unknown>;
  const message = o.message as Record<string, unknown> | undefined;
  const peer = int(message?.peer_id) ?? int(o.peer_id) ?? int(o.user_id);
  return peer === undefined ? '_' : String(peer);
}

/**
 * Converts one verified event and does what it asks (brain, page turn, permission). `item`: the
 * inbound item the event was recorded as (the consumer's path); the update made from it is tied
 * to it, so the brain adopts the item's claim.
 */
export function createVkEventHandler(deps: VkEventHandlerDeps): (event: VkCallbackEvent, item?: InboundItem) => Promise<void> {
  async function handle(converted: ConvertedEvent, item: InboundItem | undefined): Promise<void> {
    switch (converted.kind) {
      case 'update':
        return deps.handleUpdate(item ? tieInboundItem(converted.update, item) : converted.update, { peerId: converted.peerId, userId: converted.userId });
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
  return async (event, item) => handle(await deps.converter.convert(event), item);
}

/** Runs the VK side of the brain on every recorded event, peer by peer. */
export function consumeVkEvents(inbound: InboundQueue, handleEvent: (event: VkCallbackEvent, item: InboundItem) => Promise<void>, options: InboundConsumerOptions = {}): void {
  inbound.consume(async (item) => handleEvent(JSON.parse(item.payload) as VkCallbackEvent, item), options);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

export const vkCallbackPlugin: FastifyPluginAsync<VkCallbackDeps> = async (app, deps) => {
  const lease = deps.processingLeaseSeconds ?? 60;
  const key = (eventId: string) => `${deps.keyPrefix}event:${eventId}`;
  const handleEvent = createVkEventHandler(deps);
  const refuseDeep = refuseDeepBody(VK_MAX_DEPTH);
  // VK writes compact JSON; the JSON form of the secret is matched, so any secret works.
  const signed = new RegExp(`"secret"\\s*:\\s*${escapeRegExp(JSON.stringify(deps.secret))}`);

  // This plugin's own JSON parser (encapsulated: other routes keep Fastify's).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: deps.bodyLimitBytes ?? VK_CALLBACK_BODY_LIMIT }, (_request, body, done) => {
    const raw = body as string;
    if (raw.length > UNSIGNED_PARSE_LIMIT && !signed.test(raw)) return done(null, UNSIGNED);
    try {
      done(null, JSON.parse(raw));
    } catch {
      const error = new Error('Body is not valid JSON') as Error & { statusCode: number };
      error.statusCode = 400;
      done(error, undefined);
    }
  });

  app.post(
    deps.path ?? '/vk/callback',
    {
      schema: { body: bodySchema },
      preValidation: async (request, reply) => {
        if (request.body === UNSIGNED) {
          deps.logger.warn('vk: unsigned callback body refused unread');
          return reply.status(403).type('text/plain; charset=utf-8').send('forbidden');
        }
        // Before the event is recorded (JSON.stringify) or converted.
        await refuseDeep(request);
      },
    },
    async (request, reply) => {
      const event = request.body as VkCallbackEvent;
      reply.type('text/plain; charset=utf-8');
      if (event.group_id !== deps.groupId) return reply.status(403).send('forbidden');
      if (event.type === 'confirmation') return reply.send(deps.confirmationCode);
      if (!secretMatches(event.secret, deps.secret)) {
        deps.logger.warn({ type: event.type }, 'vk: callback with a wrong secret refused');
        return reply.status(403).send('forbidden');
      }
      if (!event.event_id) return reply.status(400).send('event_id is required');

      if (deps.inbound) {
        // The secret stays out of Redis; a Redis failure answers 500 (VK retries).
        const { secret: _secret, ...recorded } = event;
        const outcome = await deps.inbound.enqueue(vkChatKey(event), event.event_id, JSON.stringify(recorded));
        if (outcome === 'duplicate') deps.logger.info({ eventId: event.event_id }, 'vk: repeated event answered, not queued again');
        return reply.send('ok');
      }

      const k = key(event.event_id);
      const taken = await deps.redis.set(k, 'processing', 'EX', lease, 'NX');
      if (taken !== 'OK') {
        const state = await deps.redis.get(k);
        if (state === 'done') return reply.send('ok');
        // Still being handled elsewhere (or just now): VK retries later.
        return reply.status(409).send('in progress');
      }
      try {
        await handleEvent(event);
      } catch (err) {
        await deps.redis.del(k).catch(() => undefined);
        deps.logger.error({ err, type: event.type, eventId: event.event_id }, 'vk: event handling failed; VK will retry');
        return reply.status(500).send('retry');
      }
      await deps.redis.set(k, 'done', 'EX', 86_400);
      return reply.send('ok');
    },
  );
};
