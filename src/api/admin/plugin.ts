/**
 * The admin API (bearer ADMIN_API_TOKEN, compared in constant time): the outbox of webhooks
 * to the shop, so failures stay visible and dead ones can be sent again.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { DomainError } from '../../errors.js';
import { bearerMatches } from '../../lib/secure-compare.js';
import type { Outbox } from '../../outbox/outbox.js';
import { errorResponses } from '../../server/error-answer.js';

export interface AdminApiOptions {
  token: string | undefined;
  outbox: Pick<Outbox, 'list' | 'retryDead'>;
}

const security = [{ adminToken: [] }];
/** What every admin route can answer besides its own result (add to it, route by route). */
export const adminErrors = errorResponses(400, 401, 500, 503);
const OutboxRow = Type.Object({
  id: Type.String(),
  eventType: Type.String(),
  status: Type.String(),
  attempts: Type.Integer(),
  nextAttemptAt: Type.String(),
  lastError: Type.Union([Type.String(), Type.Null()]),
  lastStatusCode: Type.Union([Type.Integer(), Type.Null()]),
  deliveredAt: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  payload: Type.Unknown(),
});

export const adminApiPlugin: FastifyPluginAsync<AdminApiOptions> = async (parent, opts) => {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { token } = opts;

  app.addHook('onRequest', async (request) => {
    if (!token) throw new DomainError('unavailable', 'The admin API is not configured (ADMIN_API_TOKEN)');
    if (!bearerMatches(request.headers.authorization, token)) throw new DomainError('unauthorized', 'A valid bearer token is required');
  });

  const view = (row: Awaited<ReturnType<Outbox['list']>>[number]) => ({
    ...row,
    nextAttemptAt: row.nextAttemptAt.toISOString(),
    deliveredAt: row.deliveredAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  });

  app.get('/outbox', {
    schema: {
      tags: ['admin'],
      summary: 'Webhooks to the shop, newest first, by status',
      security,
      querystring: Type.Object({
        status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead')])),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
        cursor: Type.Optional(Type.String({ format: 'uuid' })),
      }),
      response: { 200: Type.Object({ items: Type.Array(OutboxRow), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...adminErrors },
    },
  }, async (request) => {
    const q = request.query;
    const limit = q.limit ?? 50;
    const rows = await opts.outbox.list({ status: q.status, limit, cursor: q.cursor });
    return { items: rows.map(view), nextCursor: rows.length === limit ? rows[rows.length - 1]!.id : null };
  });

  app.post('/outbox/:id/retry', {
    schema: {
      tags: ['admin'],
      summary: 'Give a dead webhook a fresh round of attempts',
      security,
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      response: { 200: OutboxRow, ...adminErrors, ...errorResponses(404) },
    },
  }, async (request) => {
    const { id } = request.params;
    const row = await opts.outbox.retryDead(id);
    if (!row) throw new DomainError('not_found', 'No dead outbox event with this id');
    return view(row);
  });
};
