/**
 * Admin API: what the shop platforms (WooCommerce, Shopify) delivered and what became of each
 * delivery, so a refused payload (unknown status, unknown shape) is visible, not silent.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { PrismaClient } from '../../generated/prisma/client.js';
import { ErrorAnswer } from '../../server/error-answer.js';

const EventRow = Type.Object({
  id: Type.String(),
  platform: Type.String(),
  topic: Type.String(),
  deliveryId: Type.Union([Type.String(), Type.Null()]),
  externalId: Type.Union([Type.String(), Type.Null()]),
  status: Type.String({ description: 'applied | duplicate | stale | ignored | refused' }),
  reason: Type.Union([Type.String(), Type.Null()]),
  payload: Type.Unknown({ description: 'The body, kept for refused deliveries only' }),
  receivedAt: Type.String(),
});

export function registerIntegrationEventRoutes(parent: FastifyInstance, prisma: PrismaClient): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/integrations/events', {
    schema: {
      tags: ['admin', 'integrations'],
      summary: 'Shop-platform webhook deliveries, newest first (refused ones with the reason and payload)',
      security: [{ adminToken: [] }],
      querystring: Type.Object({
        platform: Type.Optional(Type.Union([Type.Literal('woocommerce'), Type.Literal('shopify')])),
        status: Type.Optional(Type.Union(['applied', 'duplicate', 'stale', 'ignored', 'refused'].map((s) => Type.Literal(s)))),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
        cursor: Type.Optional(Type.String({ format: 'uuid' })),
      }),
      response: { 200: Type.Object({ items: Type.Array(EventRow), nextCursor: Type.Union([Type.String(), Type.Null()]) }), 400: ErrorAnswer, 401: ErrorAnswer, 503: ErrorAnswer },
    },
  }, async (request) => {
    const { platform, status, cursor } = request.query;
    const limit = request.query.limit ?? 50;
    const rows = await prisma.integrationEvent.findMany({
      where: { ...(platform ? { platform } : {}), ...(status ? { status } : {}), ...(cursor ? { id: { lt: cursor } } : {}) },
      orderBy: { id: 'desc' },
      take: limit,
    });
    return {
      items: rows.map((r) => ({ ...r, payload: r.payload ?? null, receivedAt: r.receivedAt.toISOString() })),
      nextCursor: rows.length === limit ? rows[rows.length - 1]!.id : null,
    };
  });
}
