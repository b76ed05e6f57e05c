/**
 * The sandbox's broadcast view (backend): compose a broadcast for the demo customers, start
 * it, and watch its figures, through the same domain service as the admin API (consent
 * rules included: only demo customers who gave marketing consent get it). The browser
 * module is `public/broadcasts.js` (mount(container, api)), also served here.
 */
import { readFileSync } from 'node:fs';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { SegmentSchema } from '../api/admin/broadcasts.js';
import type { BroadcastsService } from '../domain/broadcasts/broadcasts.service.js';

export interface SandboxBroadcastsOptions {
  broadcasts: BroadcastsService;
}

const MODULE = readFileSync(new URL('./public/broadcasts.js', import.meta.url), 'utf8');
const Localized = Type.Record(Type.String({ pattern: '^[a-z]{2,8}$' }), Type.String({ minLength: 1, maxLength: 4096 }));

export const sandboxBroadcastsPlugin: FastifyPluginAsync<SandboxBroadcastsOptions> = async (parent, { broadcasts }) => {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const base = '/sandbox/api/broadcasts';
  const hide = { hide: true };
  const params = Type.Object({ id: Type.String({ format: 'uuid' }) });

  app.get(`${base}/module.js`, { schema: hide }, async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(MODULE));
  app.get(base, { schema: hide }, async () => ({ items: await broadcasts.list(20) }));
  app.post(`${base}/count`, { schema: { ...hide, body: Type.Object({ segment: SegmentSchema }, { additionalProperties: false }) } }, async (req) => broadcasts.count(req.body.segment));
  app.post(base, {
    schema: {
      ...hide,
      body: Type.Object(
        {
          title: Type.String({ minLength: 1, maxLength: 200 }),
          text: Localized,
          buttons: Type.Optional(Type.Array(Type.Object({ text: Localized, url: Type.String({ maxLength: 2048 }) }), { maxItems: 5 })),
          segment: SegmentSchema,
        },
        { additionalProperties: false },
      ),
    },
  }, async (req) => {
    const { id } = await broadcasts.create(req.body);
    return broadcasts.start(id);
  });
  app.get(`${base}/:id`, { schema: { ...hide, params } }, async (req) => broadcasts.status(req.params.id));
  for (const action of ['pause', 'resume', 'cancel'] as const) {
    app.post(`${base}/:id/${action}`, { schema: { ...hide, params } }, async (req) => broadcasts[action](req.params.id));
  }
};
