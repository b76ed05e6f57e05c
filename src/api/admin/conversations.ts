/**
 * Admin API over support conversations (bearer ADMIN_API_TOKEN, compared in constant time):
 * the list by status and a conversation's transcript — every message with its direction,
 * author, private-note flag and delivery status.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { DomainError } from '../../errors.js';
import type { TranscriptQueries } from '../../domain/support/transcripts.js';
import { bearerMatches } from '../../lib/secure-compare.js';
import { ErrorAnswer } from '../../server/error-answer.js';

export interface AdminConversationsOptions {
  token: string | undefined;
  transcripts: TranscriptQueries;
}

const security = [{ adminToken: [] }];
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Staff = Type.Union([Type.Object({ id: Type.String(), name: Type.String() }), Type.Null()]);

const Conversation = Type.Object({
  id: Type.String({ format: 'uuid' }),
  status: Type.Union([Type.Literal('waiting'), Type.Literal('with_operator'), Type.Literal('closed')]),
  platform: Type.Union([Type.Literal('telegram'), Type.Literal('vk')]),
  customerId: Nullable(Type.String()),
  assignee: Staff,
  messages: Type.Integer({ description: 'Messages stored, notes included' }),
  staffChatId: Nullable(Type.String()),
  staffThreadId: Nullable(Type.String()),
  rating: Type.Union([Type.Integer({ minimum: 1, maximum: 5 }), Type.Null()]),
  ratingComment: Nullable(Type.String()),
  closedBy: Nullable(Type.String()),
  createdAt: Type.String(),
  lastMessageAt: Type.String(),
  answeredAt: Nullable(Type.String()),
  closedAt: Nullable(Type.String()),
});

const Message = Type.Object({
  id: Type.String({ format: 'uuid' }),
  direction: Type.Union([Type.Literal('inbound'), Type.Literal('outbound')], { description: 'inbound: from the customer; outbound: from an operator' }),
  author: Type.Object({ kind: Type.Union([Type.Literal('customer'), Type.Literal('operator')]), id: Nullable(Type.String()), name: Nullable(Type.String()) }),
  note: Type.Boolean({ description: 'A private note of the operators, never sent to the customer' }),
  text: Nullable(Type.String()),
  attachments: Type.Array(Type.Object({ kind: Type.String(), fileName: Nullable(Type.String()), mimeType: Nullable(Type.String()) })),
  deliveryStatus: Type.Union([Type.Literal('pending'), Type.Literal('sent'), Type.Literal('failed')], { description: 'inbound: posted to the staff topic; outbound: delivered to the customer' }),
  deliveryError: Nullable(Type.String()),
  createdAt: Type.String(),
});

/** Query strings are not coerced (the app's schema rules): the page size is read here. */
function pageSize(raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (n > max) throw new DomainError('invalid_input', `limit is at most ${max}`, { field: 'limit', max });
  return n;
}

export const adminConversationsPlugin: FastifyPluginAsync<AdminConversationsOptions> = async (parent, opts) => {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook('onRequest', async (request) => {
    if (!opts.token) throw new DomainError('unavailable', 'The admin API is not configured (ADMIN_API_TOKEN)');
    if (!bearerMatches(request.headers.authorization, opts.token)) throw new DomainError('unauthorized', 'A valid bearer token is required');
  });

  app.get('/conversations', {
    schema: {
      tags: ['admin'],
      summary: 'Support conversations, most recent activity first, by status',
      security,
      querystring: Type.Object({
        status: Type.Optional(Type.Union([Type.Literal('waiting'), Type.Literal('with_operator'), Type.Literal('closed')])),
        limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}$', description: '1-200, default 50' })),
        cursor: Type.Optional(Type.String({ format: 'uuid', description: 'nextCursor of the previous page' })),
      }),
      response: { 200: Type.Object({ items: Type.Array(Conversation), nextCursor: Nullable(Type.String()) }), 400: ErrorAnswer, 401: ErrorAnswer, 503: ErrorAnswer },
    },
  }, async (request) => {
    const limit = pageSize(request.query.limit, 50, 200);
    const items = await opts.transcripts.list({ status: request.query.status, limit, cursor: request.query.cursor }).catch((err: unknown) => {
      // A cursor that names no conversation.
      if (err instanceof Error && /cursor|not found|No record/i.test(err.message)) throw new DomainError('invalid_input', 'Unknown cursor', { field: 'cursor' });
      throw err;
    });
    return { items, nextCursor: items.length === limit ? items[items.length - 1]!.id : null };
  });

  app.get('/conversations/:id/messages', {
    schema: {
      tags: ['admin'],
      summary: "A conversation's transcript, oldest first: direction, author, notes, delivery status",
      security,
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      querystring: Type.Object({
        limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}$', description: '1-500, default 200' })),
        cursor: Type.Optional(Type.String({ format: 'uuid' })),
      }),
      response: { 200: Type.Object({ items: Type.Array(Message), nextCursor: Nullable(Type.String()) }), 400: ErrorAnswer, 401: ErrorAnswer, 404: ErrorAnswer, 503: ErrorAnswer },
    },
  }, async (request) => {
    const limit = pageSize(request.query.limit, 200, 500);
    const items = await opts.transcripts.transcript(request.params.id, { limit, cursor: request.query.cursor });
    return { items, nextCursor: items.length === limit ? items[items.length - 1]!.id : null };
  });
};
