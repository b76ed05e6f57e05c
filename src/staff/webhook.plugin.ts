/**
 * POST /telegram/staff/webhook: the staff bot's updates. The secret token header is compared
 * in constant time in onRequest, before the body is read or parsed; the update is handled and
 * answered 200, or 500 when handling failed so Telegram delivers it again.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Update } from 'telegraf/types';
import type { Logger } from '../infra/logger.js';
import { secretMatches } from '../lib/secure-compare.js';
import { refuseDeepBody, TELEGRAM_MAX_DEPTH } from '../server/body-depth.js';
import { TELEGRAM_UPDATE_SCHEMA } from '../channels/telegram/webhook.plugin.js';

export const STAFF_WEBHOOK_PATH = '/telegram/staff/webhook';
const HEADER = 'x-telegram-bot-api-secret-token';

export interface StaffWebhookOptions {
  secretToken: string;
  handleUpdate(update: Update): Promise<void>;
  logger: Logger;
  path?: string;
}

export function staffWebhookPlugin(options: StaffWebhookOptions): FastifyPluginAsync {
  return async (app) => {
    app.post(
      options.path ?? STAFF_WEBHOOK_PATH,
      {
        // The customer bot's rules: a real update_id and one payload, nested as Telegram nests.
        schema: { hide: true, body: TELEGRAM_UPDATE_SCHEMA },
        preValidation: refuseDeepBody(TELEGRAM_MAX_DEPTH),
        onRequest: async (request, reply) => {
          if (!secretMatches(request.headers[HEADER], options.secretToken)) {
            return reply.status(401).send({ error: 'unauthorized', message: 'Bad secret token' });
          }
        },
      },
      async (request, reply) => {
        const update = request.body as Update;
        try {
          await options.handleUpdate(update);
          return reply.status(200).send({ ok: true });
        } catch (err) {
          options.logger.error({ err, updateId: update.update_id }, 'staff webhook update failed');
          return reply.status(500).send({ error: 'internal_error', message: 'Update failed' });
        }
      },
    );
  };
}
