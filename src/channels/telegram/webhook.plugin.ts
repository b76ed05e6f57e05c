/**
 * POST /telegram/webhook.
 *
 * The secret token header is compared (constant time) in `onRequest`, before Fastify reads
 * or parses a byte of the body: a forged request costs a header comparison and is answered
 * 401. A signed body is capped at TELEGRAM_WEBHOOK_BODY_LIMIT (1 MiB, 413 above it): a real
 * update is a few KB (a 4096-character message, its entities and a replied-to message, even
 * with every character \u-escaped, stays under ~100 KB), so 1 MiB leaves ten times that and
 * still bounds what a leaked secret can make us parse.
 *
 * With an inbound queue (production): the update is recorded in the chat's durable queue in
 * Redis (deduplicated by update_id) and answered 200 at once; workers run the brain. Without
 * one (tests of the brain, long-polling tools): the update is handled before the answer, and
 * a failure answers 500 so Telegram retries.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Bot, Context } from 'grammy';
import type { Update } from 'grammy/types';
import type { Logger } from '../../infra/logger.js';
import { secretMatches } from '../../lib/secure-compare.js';
import { refuseDeepBody, TELEGRAM_MAX_DEPTH } from '../../server/body-depth.js';
import type { InboundQueue } from '../../bot/ordering/inbound-queue.js';
import { telegramChatKey } from './inbound.js';

export interface TelegramWebhookOptions {
  bot: Bot<any>;
  secretToken: string;
  logger: Logger;
  path?: string;
  /** Record and answer at once; workers handle. Absent: handle before answering. */
  inbound?: InboundQueue | undefined;
  bodyLimitBytes?: number;
}

export const TELEGRAM_WEBHOOK_PATH = '/telegram/webhook';
export const TELEGRAM_WEBHOOK_BODY_LIMIT = 1024 * 1024;
const HEADER = 'x-telegram-bot-api-secret-token';

/**
 * What a body must be before an update is recorded or handled (the customer and the staff
 * bot's webhooks): update_id a whole number Telegram could send (not negative, exact as a
 * JavaScript number, so its text is its dedup key), and the one field that carries the update
 * (message, callback_query, ...). An update_id alone carries nothing to handle.
 */
export const TELEGRAM_UPDATE_SCHEMA = {
  type: 'object',
  required: ['update_id'],
  minProperties: 2,
  properties: { update_id: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } },
} as const;

export function telegramWebhookPlugin(options: TelegramWebhookOptions): FastifyPluginAsync {
  return async (app) => {
    app.post(
      options.path ?? TELEGRAM_WEBHOOK_PATH,
      {
        bodyLimit: options.bodyLimitBytes ?? TELEGRAM_WEBHOOK_BODY_LIMIT,
        schema: { hide: true, body: TELEGRAM_UPDATE_SCHEMA },
        // Before the body is read: a request without the secret never reaches the parser.
        onRequest: async (request, reply) => {
          if (!secretMatches(request.headers[HEADER], options.secretToken)) {
            return reply.status(401).send({ error: 'unauthorized', message: 'Bad secret token' });
          }
        },
        // After parsing, before anything walks the body (JSON.stringify when it is recorded).
        preValidation: refuseDeepBody(TELEGRAM_MAX_DEPTH),
      },
      async (request, reply) => {
        const update = request.body as Update;
        if (options.inbound) {
          // A Redis failure answers 500 (below): Telegram retries, nothing is half-recorded.
          const recorded = await options.inbound.enqueue(telegramChatKey(update), String(update.update_id), JSON.stringify(update));
          if (recorded === 'duplicate') options.logger.info({ updateId: update.update_id }, 'telegram: duplicate update answered, not queued again');
          return reply.status(200).send({ ok: true });
        }
        try {
          await options.bot.handleUpdate(update);
          return reply.status(200).send({ ok: true });
        } catch (err) {
          options.logger.error({ err, updateId: update.update_id }, 'webhook update failed');
          return reply.status(500).send({ error: 'internal_error', message: 'Update failed' });
        }
      },
    );
  };
}

export type { Context };
