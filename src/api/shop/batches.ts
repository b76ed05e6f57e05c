/**
 * Batch imports: `POST /products/batch`, `/orders/batch`, `/customers/batch`, up to 10,000
 * items. The route validates the envelope; each item is then checked on its own (the item schema with the same validator and wording as the single routes, repeats within the
 * batch) and refused items are listed by index. Synchronous by default (fine for a few
 * hundred items); `?async=true` stores the job and answers 202 `{ jobId }` at once, and
 * `GET /jobs/{id}` reports progress and per-item errors.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type TObject } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FastifyInstance } from 'fastify';
import { normalizePhone } from '../../domain/customers/phone.js';
import type { ImportKind } from '../../domain/shop-sync/import-jobs.js';
import { isProcessed, markProcessed, processOnce } from '../../domain/shop-sync/processed-events.js';
import type { AfterWrite } from '../../domain/shop-sync/shop-sync.js';
import type { BatchReport, CustomerInput, ItemError, OrderInput, ProductInput } from '../../domain/shop-sync/types.js';
import { DomainError } from '../../errors.js';
import { createBodyAjv, problemPath } from '../../server/validation.js';
import { eventKey, replay, security, shopErrors, type ShopApiOptions } from './plugin.js';
import { BatchAnswer, BatchEnvelope, CustomerSchema, EventId, ImportJobAnswer, JobAccepted, OrderSchema, ProductSchema } from './schemas.js';

interface Kind<I> {
  kind: ImportKind;
  path: string;
  schema: TObject;
  summary: string;
  /** What identifies an item to the shop in the report. */
  keyOf(item: Record<string, unknown>): string | null;
  /** Keys that must be unique within one batch, as [field, value]. */
  uniqueKeys(item: I): Array<[string, string]>;
  /** Checks beyond the schema, as (field, message). */
  extra?(item: I): [string, string] | null;
}

const str = (v: unknown) => (typeof v === 'string' ? v : null);
const phoneKey = (raw: string): string => {
  try {
    return normalizePhone(raw);
  } catch {
    return raw;
  }
};
/** Reports never carry a phone in the clear: the last four digits identify it well enough. */
const maskedPhone = (raw: unknown) => (typeof raw === 'string' ? `***${raw.replace(/\D/g, '').slice(-4)}` : null);

const KINDS: [Kind<ProductInput>, Kind<OrderInput>, Kind<CustomerInput>] = [
  {
    kind: 'products', path: '/products/batch', schema: ProductSchema, summary: 'Import up to 10,000 products (restocks and price drops alert watchers)',
    keyOf: (i) => str(i.sku),
    uniqueKeys: (i) => [['sku', i.sku]],
  },
  {
    kind: 'orders', path: '/orders/batch', schema: OrderSchema, summary: 'Import up to 10,000 orders (no customer messages; history: true also skips points)',
    keyOf: (i) => str(i.number),
    uniqueKeys: (i) => [['number', i.number]],
    extra: (i) => (i.customerPhone || i.customerExternalId ? null : ['customerPhone', 'customerPhone or customerExternalId is required']),
  },
  {
    kind: 'customers', path: '/customers/batch', schema: CustomerSchema, summary: 'Import up to 10,000 customers',
    keyOf: (i) => str(i.externalId) ?? maskedPhone(i.phone),
    uniqueKeys: (i) => [['phone', phoneKey(i.phone)], ...(i.externalId ? [['externalId', i.externalId] as [string, string]] : [])],
  },
];

export function registerBatchRoutes(parent: FastifyInstance, opts: ShopApiOptions): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { services } = opts;
  const batchMax = opts.batchMaxItems ?? 10_000;
  const batchLimit = opts.batchBodyLimitBytes ?? 32 * 1024 * 1024;
  const ajv = createBodyAjv();

  function register<I>(spec: Kind<I>) {
    const itemCheck = ajv.compile(spec.schema);
    const envelope = Type.Object({ eventId: EventId, items: Type.Array(Type.Unknown(), { minItems: 1, maxItems: batchMax }) }, { additionalProperties: false });
    const envelopeCheck = TypeCompiler.Compile(envelope);

    /** Splits the items into those to import and those refused, in the single routes' words. */
    function triage(items: unknown[]): { valid: Array<{ index: number; item: I }>; errors: ItemError[] } {
      const valid: Array<{ index: number; item: I }> = [];
      const errors: ItemError[] = [];
      const firstAt = new Map<string, number>();
      items.forEach((item, index) => {
        const key = item && typeof item === 'object' && !Array.isArray(item) ? spec.keyOf(item as Record<string, unknown>) : null;
        const refuse = (field: string | null, message: string) => errors.push({ index, key, field, message });
        if (!itemCheck(item)) {
          const e = itemCheck.errors?.[0];
          return refuse(e ? problemPath(e.instancePath, e.params) || null : null, e?.message ?? 'is invalid');
        }
        const typed = item as I;
        const extra = spec.extra?.(typed);
        if (extra) return refuse(extra[0], extra[1]);
        for (const [field, value] of spec.uniqueKeys(typed)) {
          const prev = firstAt.get(`${field}\u0001${value}`);
          if (prev !== undefined) return refuse(field, `duplicate ${field} in this batch (first at item ${prev})`);
        }
        for (const [field, value] of spec.uniqueKeys(typed)) firstAt.set(`${field}\u0001${value}`, index);
        valid.push({ index, item: typed });
      });
      return { valid, errors };
    }

    function runImport(valid: Array<{ index: number; item: I }>, eventId: string, report: BatchReport): Promise<AfterWrite> {
      if (spec.kind === 'products') return services.sync.importProducts(valid as never, { eventId, notify: true }, report);
      if (spec.kind === 'orders') return services.sync.importOrders(valid as never, { eventId, notify: false }, report);
      return services.sync.importCustomers(valid as never, report);
    }

    app.post(spec.path, {
      bodyLimit: batchLimit,
      config: { batch: true },
      schema: {
        tags: ['shop', 'import'],
        summary: spec.summary,
        description: `Up to ${batchMax} items. Each item is validated and written on its own; refused items (schema, a repeated key within the batch) are listed in \`errors\` by index, worded as the single route words them. \`?async=true\` answers 202 { jobId } at once; poll GET /api/v1/jobs/{jobId}. Prefer it above a few hundred items: proxies cut long requests.`,
        security,
        querystring: Type.Object({ async: Type.Optional(Type.Boolean({ description: 'Run in the background: answers 202 { jobId }' })) }, { additionalProperties: false }),
        body: BatchEnvelope(spec.schema, batchMax),
        response: { 200: BatchAnswer, 202: JobAccepted, ...shopErrors },
      },
      // The documented schema is per item; validating it as a whole would refuse a batch for one bad item.
      validatorCompiler: ({ httpPart, schema }) => {
        if (httpPart !== 'body') {
          const check = createBodyAjv();
          const coerce = (data: unknown) => {
            const q = { ...(data as Record<string, unknown>) };
            if (q.async === 'true') q.async = true;
            else if (q.async === 'false') q.async = false;
            return q;
          };
          const validate = check.compile(schema as object);
          return (data: unknown) => {
            const value = coerce(data);
            if (validate(value)) return { value };
            const e = validate.errors?.[0];
            return { error: Object.assign(new Error(`querystring${e?.instancePath ?? ''} ${e?.message ?? 'is invalid'}`), { validation: validate.errors ?? [], validationContext: 'querystring' }) };
          };
        }
        return (data: unknown) => {
          if (envelopeCheck.Check(data)) return { value: data };
          const first = envelopeCheck.Errors(data).First();
          return { error: Object.assign(new Error(`body${first?.path.replace(/\//g, '.') ?? ''} ${first?.message ?? 'is invalid'}`), { validation: [{ instancePath: first?.path ?? '', message: first?.message ?? 'invalid', params: {} }], validationContext: 'body' }) };
        };
      },
    }, async (request, reply) => {
      const { eventId, items } = request.body as { eventId: string; items: unknown[] };
      const runAsync = (request.query as { async?: boolean }).async === true;
      const key = eventKey(request, eventId);
      const seen = await isProcessed(opts.prisma, key);
      if (seen) {
        const answer = replay<Record<string, unknown>>(seen.response);
        return reply.status('jobId' in answer && !('received' in answer) ? 202 : 200).send(answer as never);
      }
      const { valid, errors } = triage(items);

      if (runAsync) {
        const r = await processOnce(opts.prisma, key, (tx) => services.imports.create(tx, { kind: spec.kind, eventId, received: items.length, items: valid, errors }), {
          answer: (jobId) => ({ ok: true, duplicate: false, jobId, status: 'queued' }),
          timeoutMs: 60_000,
        });
        if (r.duplicate) return reply.status(202).send(replay<{ ok: boolean; duplicate: boolean; jobId: string; status: string }>(r.response));
        await services.importQueue.dispatch(r.result);
        return reply.status(202).send({ ok: true, duplicate: false, jobId: r.result, status: 'queued' });
      }

      const report: BatchReport = { received: items.length, created: 0, updated: 0, unchanged: 0, failed: 0, errors };
      const after = await runImport(valid, eventId, report);
      report.errors.sort((a, b) => a.index - b.index);
      report.failed = report.errors.length;
      const answer = { ok: report.failed === 0, duplicate: false, received: report.received, created: report.created, updated: report.updated, failed: report.failed, errors: report.errors };
      await markProcessed(opts.prisma, key, answer);
      await services.afterWrite(after);
      return answer;
    });
  }

  register(KINDS[0]);
  register(KINDS[1]);
  register(KINDS[2]);

  app.get('/jobs/:id', {
    schema: {
      tags: ['shop', 'import'],
      summary: 'Progress and per-item errors of an asynchronous batch import',
      security,
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      response: { 200: ImportJobAnswer, ...shopErrors },
    },
  }, async (request) => {
    const job = await services.imports.get(request.params.id);
    if (!job) throw new DomainError('not_found', 'No import job with this id', { field: 'id' });
    return job;
  });
}

