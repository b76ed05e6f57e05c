/**
 * POST /telegram/webhook: checks Telegram's secret token header in constant time, then
 * hands the update to the bot and answers when it is handled. Handling is not cut short on
 * a timeout (that would let the chat's next update run beside it); past the deadline the
 * request is answered 200 and the handling finishes in the background under the chat lock.
 * A handler failure answers 500 so Telegram retries (a failed update is not marked done).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Bot, Context } from 'grammy';
import type { Update } from 'grammy/types';
import type { Logger } from '../../infra/logger.js';
import { secretMatches } from '../../lib/secure-compare.js';

export interface TelegramWebhookOptions {
  bot: Bot<any>;
  secretToken: string;
  logger: Logger;
  path?: string;
  /** Answer 200 after this long even if handling goes on. Default 25 s (Telegram waits ~60 s). */
  timeoutMs?: number;
}

export const TELEGRAM_WEBHOOK_PATH = '/telegram/webhook';
const HEADER = 'x-telegram-bot-api-secret-token';


export function telegramWebhookPlugin(options: TelegramWebhookOptions): FastifyPluginAsync {
  const timeoutMs = options.timeoutMs ?? 25_000;
  return async (app) => {
    app.post(
      options.path ?? TELEGRAM_WEBHOOK_PATH,
      { schema: { hide: true, body: { type: 'object', required: ['update_id'], properties: { update_id: { type: 'integer' } } } } },
      async (request, reply) => {
        if (!secretMatches(request.headers[HEADER], options.secretToken)) {
          return reply.status(401).send({ error: 'unauthorized', message: 'Bad secret token' });
        }
        const update = request.body as Update;
        const handling = options.bot.handleUpdate(update);
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), timeoutMs);
        });
        try {
          const outcome = await Promise.race([handling.then(() => 'done' as const), deadline]);
          if (outcome === 'timeout') {
            options.logger.warn({ updateId: update.update_id }, 'webhook update still running; answered early');
            handling.catch((err: unknown) => options.logger.error({ err, updateId: update.update_id }, 'late webhook update failed'));
          }
          return reply.status(200).send({ ok: true });
        } catch (err) {
          options.logger.error({ err, updateId: update.update_id }, 'webhook update failed');
          return reply.status(500).send({ error: 'internal_error', message: 'Update failed' });
        } finally {
          clearTimeout(timer);
        }
      },
    );
  };
}

export type { Context };
