/**
 * The admin API for broadcasts (under the admin plugin's bearer check): create a draft,
 * count a segment, start / pause / resume / cancel, watch the figures, download the
 * deliveries as CSV. The rules live in src/domain/broadcasts; this only maps HTTP.
 */
import { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { BroadcastsService } from '../../domain/broadcasts/broadcasts.service.js';
import { ErrorAnswer } from '../../server/error-answer.js';

export interface AdminBroadcastsOptions {
  broadcasts: BroadcastsService;
}

const security = [{ adminToken: [] }];
const Localized = Type.Record(Type.String({ pattern: '^[a-z]{2,8}$' }), Type.String({ minLength: 1, maxLength: 4096 }), {
  description: 'A text per language of the shop, e.g. { "ru": "...", "en": "..." }; the default language is required, others fall back to it. Placeholders: {firstName}, {points}, {tier}.',
});
const Uuid = Type.String({ format: 'uuid' });

export const SegmentSchema = Type.Object(
  {
    platforms: Type.Optional(Type.Array(Type.Union([Type.Literal('telegram'), Type.Literal('vk')]), { minItems: 1 })),
    languages: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
    tiers: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
    orderedWithinDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 36500, description: 'placed an order in the last n days' })),
    noOrdersWithinDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 36500, description: 'no order in the last n days (never ordered included)' })),
    wishlistSkus: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { minItems: 1 })),
    customerIds: Type.Optional(Type.Array(Uuid, { minItems: 1, maxItems: 10000 })),
  },
  {
    additionalProperties: false,
    description: 'All conditions combined with AND. Marketing consent (marketingConsent) and the promotions switch (notifyPromotions) are always required. One message per customer, on the messenger used last; customers whose every identity blocked the bot are skipped and counted.',
  },
);

const Figures = Type.Object({
  id: Type.String(),
  title: Type.String(),
  status: Type.String({ description: 'draft, scheduled, sending, paused, sent, cancelled' }),
  scheduledAt: Type.Union([Type.String(), Type.Null()]),
  total: Type.Integer(),
  pending: Type.Integer(),
  sent: Type.Integer(),
  failed: Type.Integer(),
  blocked: Type.Integer(),
  skipped: Type.Integer(),
  startedAt: Type.Union([Type.String(), Type.Null()]),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
});

const errors = { 400: ErrorAnswer, 401: ErrorAnswer, 404: ErrorAnswer, 409: ErrorAnswer, 503: ErrorAnswer };

export const adminBroadcastsRoutes: FastifyPluginAsync<AdminBroadcastsOptions> = async (parent, opts) => {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { broadcasts } = opts;

  app.post('/broadcasts', {
    schema: {
      tags: ['admin', 'broadcasts'],
      summary: 'Create a broadcast draft',
      description: 'Validates the content and the segment and stores a draft; `recipients` is how many customers the segment reaches now. Start it with /broadcasts/{id}/start (at scheduledAt when given).',
      security,
      body: Type.Object(
        {
          title: Type.String({ minLength: 1, maxLength: 200 }),
          text: Localized,
          imageUrl: Type.Optional(Type.String({ format: 'uri', maxLength: 2048, description: 'a picture; the text becomes its caption (≤ 1024 characters)' })),
          buttons: Type.Optional(Type.Array(Type.Object({ text: Localized, url: Type.String({ format: 'uri', maxLength: 2048 }) }, { additionalProperties: false }), { maxItems: 5 })),
          segment: SegmentSchema,
          scheduledAt: Type.Optional(Type.String({ format: 'date-time' })),
        },
        { additionalProperties: false },
      ),
      response: { 201: Type.Object({ id: Type.String(), status: Type.Literal('draft'), recipients: Type.Integer() }), ...errors },
    },
  }, async (request, reply) => {
    const created = await broadcasts.create(request.body);
    return reply.status(201).send(created);
  });

  app.post('/segments/count', {
    schema: {
      tags: ['admin', 'broadcasts'],
      summary: 'How many customers a segment reaches',
      description: '`customers`: who would get the message; `identities`: their linked messenger accounts that did not block the bot; `byPlatform`: where the messages go (one per customer, on the messenger used last); `blocked`: customers skipped because every identity blocked the bot.',
      security,
      body: Type.Object({ segment: SegmentSchema }, { additionalProperties: false }),
      response: {
        200: Type.Object({ customers: Type.Integer(), identities: Type.Integer(), byPlatform: Type.Object({ telegram: Type.Integer(), vk: Type.Integer() }), blocked: Type.Integer() }),
        ...errors,
      },
    },
  }, async (request) => broadcasts.count(request.body.segment));

  app.get('/broadcasts', {
    schema: {
      tags: ['admin', 'broadcasts'],
      summary: 'Broadcasts, newest first, with their figures',
      security,
      querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })) }),
      response: { 200: Type.Object({ items: Type.Array(Figures) }), ...errors },
    },
  }, async (request) => ({ items: await broadcasts.list(request.query.limit ?? 50) }));

  const params = Type.Object({ id: Uuid });

  app.get('/broadcasts/:id', {
    schema: { tags: ['admin', 'broadcasts'], summary: 'A broadcast and its figures', security, params, response: { 200: Figures, ...errors } },
  }, async (request) => broadcasts.status(request.params.id));

  const actions = {
    start: 'Confirm a draft: send now, or at its scheduledAt',
    pause: 'Pause a sending broadcast (within a second)',
    resume: 'Resume a paused broadcast',
    cancel: 'Cancel: nobody else gets it; what was sent stays sent',
  } as const;
  for (const [action, summary] of Object.entries(actions) as Array<[keyof typeof actions, string]>) {
    app.post(`/broadcasts/:id/${action}`, {
      schema: { tags: ['admin', 'broadcasts'], summary, security, params, response: { 200: Figures, ...errors } },
    }, async (request) => broadcasts[action](request.params.id));
  }

  app.get('/broadcasts/:id/deliveries.csv', {
    schema: {
      tags: ['admin', 'broadcasts'],
      summary: 'One row per recipient: customer_id, platform, status, error, sent_at',
      security,
      params,
      produces: ['text/csv'],
      response: { 200: Type.String({ description: 'text/csv' }), ...errors },
    },
  }, async (request, reply) => {
    const { id } = request.params;
    await broadcasts.status(id); // 404 before the headers go out
    await reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="broadcast-${id}-deliveries.csv"`)
      .send(Readable.from(broadcasts.deliveriesCsv(id)) as unknown as string);
    return reply;
  });
};
