/**
 * Builds the Fastify app without listening, so tests use app.inject or listen on port 0.
 * Every HTTP edge (webhooks, shop API, admin API, sandbox) is a plugin registered here by
 * the composition root.
 */
import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync, type FastifyPluginCallback, type FastifyError, type FastifyReply } from 'fastify';
import { isDomainError, type DomainErrorCode } from '../errors.js';
import { domainErrorBody, httpErrorBody, validationErrorBody, withRequestId, REQUEST_ID_HEADER } from './error-answer.js';
import { createValidatorCompiler } from './validation.js';
import type { Logger } from '../infra/logger.js';
import { runHealthChecks, type HealthCheck } from './health.js';
import { DEPENDENCY_RETRY_AFTER_SECONDS, unavailableDependency } from '../infra/dependency-errors.js';
import { clip } from '../lib/clip.js';

export interface AppDeps {
  logger: Logger;
  bodyLimitBytes?: number;
  health: HealthCheck[];
  /** Registered in order after the core routes. */
  plugins?: Array<{ plugin: FastifyPluginAsync<any> | FastifyPluginCallback<any>; options?: Record<string, unknown> }>;
  /** OpenAPI docs at /docs (on by default). */
  docs?: boolean;
}

const STATUS_BY_CODE: Record<DomainErrorCode, number> = {
  not_found: 404,
  invalid_input: 400,
  conflict: 409,
  forbidden: 403,
  unauthorized: 401,
  rate_limited: 429,
  not_logged_in: 401,
  unavailable: 503,
};

export type App = FastifyInstance;

const inflightRequests = new WeakMap<object, Set<string>>();

/**
 * Stops accepting, lets running requests finish, then closes. Node keeps a keep-alive
 * connection open if a client (a fake or real platform's delivery agent) never releases it,
 * which would hang close forever: once no request is running, or after `graceMs`, every
 * remaining connection is closed.
 */
export async function closeGracefully(app: App, graceMs = 10_000): Promise<void> {
  const inflight = inflightRequests.get(app);
  const closing = app.close();
  const started = Date.now();
  let done = false;
  void closing.finally(() => { done = true; });
  while (!done && (inflight?.size ?? 0) > 0 && Date.now() - started < graceMs) await new Promise((r) => setTimeout(r, 25));
  if (!done) app.server.closeAllConnections();
  await closing;
}

/**
 * The path of the field a validation error is about: an unknown or a missing property is
 * named itself ("/product/colour"), not only the object that holds it ("/product"). The
 * answer turns it into a dot path ("product.colour").
 */
function fieldPath(instancePath: string, params: unknown, part: string | undefined): string {
  const p = (params ?? {}) as { missingProperty?: string; additionalProperty?: string };
  const own = p.additionalProperty ?? p.missingProperty;
  // The whole body (or query) is wrong, e.g. not an object: name it as the README does.
  if (!own) return instancePath || (part === 'querystring' ? 'query' : part ?? 'body');
  return instancePath ? `${instancePath}/${own}` : own;
}

export async function buildApp(deps: AppDeps): Promise<App> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Per-request lines would log URLs with ids and phones at volume; errors are logged below.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    bodyLimit: deps.bodyLimitBytes ?? 10 * 1024 * 1024,
    // Webhook handlers must answer fast; a stuck request should not hold a connection forever.
    requestTimeout: 30_000,
    return503OnClosing: true,
    // A request id on every answer (header, error body, log line) so a caller can quote it.
    genReqId: () => randomUUID(),
    // Errors raised before routing (a malformed path encoding, a path segment over the limit)
    // answer the documented shape too.
    frameworkErrors: (error, request, reply) => {
      const status = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : 400;
      const code = status === 414 ? 'uri_too_long' : 'bad_request';
      void (reply as unknown as FastifyReply).header(REQUEST_ID_HEADER, request.id).status(status).send(withRequestId(httpErrorBody(status, code, status === 414 ? 'The request path is too long' : 'The request path is not a valid URL'), request.id));
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  // Bodies are validated strictly (a "5" is not a number); query strings and path parameters
  // are text by nature and are coerced ("?limit=2" is an integer).
  app.setValidatorCompiler(createValidatorCompiler());

  const inflight = new Set<string>();
  inflightRequests.set(app, inflight);
  // Callback hooks, not async ones: every request passes them, and an async hook costs a promise each.
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    inflight.add(request.id);
    done();
  });
  app.addHook('onResponse', (request, _reply, done) => {
    inflight.delete(request.id);
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    inflight.delete(request.id);
    done();
  });

  // One error handler: 4xx messages are shown, 5xx details stay in the log.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    // Both sources answer one shape (error-answer.ts): `fields` with dot paths, other details kept.
    void reply.header(REQUEST_ID_HEADER, request.id);
    if (isDomainError(error)) return reply.status(STATUS_BY_CODE[error.code]).send(withRequestId(domainErrorBody(error), request.id));
    if (error.validation) {
      const part = (error as { validationContext?: string }).validationContext;
      return reply.status(400).send(withRequestId(validationErrorBody(error.message, error.validation.map((v) => ({ field: fieldPath(v.instancePath, v.params, part), message: v.message }))), request.id));
    }
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    // Redis or PostgreSQL unreachable (a restart, a failover, an exhausted pool): nothing was
    // half-written, so the caller is told to come back (Telegram, VK and the shop retry a 5xx).
    const down = status >= 500 ? unavailableDependency(error) : undefined;
    if (down) {
      request.log.warn({ dependency: down, url: request.routeOptions.url, err: { message: clip(error.message, 200) } }, 'dependency unavailable; answered 503');
      return reply
        .status(503)
        .header('Retry-After', String(DEPENDENCY_RETRY_AFTER_SECONDS))
        .send(withRequestId({ error: 'unavailable', message: 'A storage service is unavailable for a moment; retry later', details: { retryAfterSeconds: DEPENDENCY_RETRY_AFTER_SECONDS } }, request.id));
    }
    if (status < 500) {
      const details = (error as { details?: Record<string, unknown> }).details;
      return reply.status(status).send(withRequestId({ ...httpErrorBody(status, error.code, error.message), ...(details ? { details } : {}) }, request.id));
    }
    request.log.error({ err: error, url: request.routeOptions.url }, 'request failed');
    return reply.status(status).send(withRequestId({ error: 'internal_error', message: `Internal error; quote request id ${request.id}` }, request.id));
  });
  app.setNotFoundHandler((request, reply) => reply.status(404).send(withRequestId({ error: 'not_found', message: `No route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}` }, request.id)));

  if (deps.docs !== false) {
    await app.register(swagger, {
      openapi: {
        info: { title: 'Kabinet API', description: 'The shop backend API (signed with Kabinet-Signature) and the admin API of Kabinet. Webhooks Kabinet sends to the shop (SHOP_WEBHOOK_URL), with the same header over "<t>.<raw body>": customer.linked, customer.updated, customer.address_changed, repeat_order.requested, support.requested, support.message, support.closed, support.rated, webhook.test; envelope { id, type, createdAt, data }, payloads and retries in src/outbox/README.md.', version: '1.0.0' },
        components: {
          securitySchemes: {
            shopSignature: { type: 'apiKey', in: 'header', name: 'Kabinet-Signature', description: 't=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<METHOD>.<path>.<raw body>"> with SHOP_API_SECRET; path is the request target as sent, with its query string (e.g. "1733500000.POST./api/v1/orders/A-1/status.{...}"). While rotating, SHOP_API_SECRET may hold two secrets and either is accepted. Webhooks from Kabinet sign "<t>.<raw body>" with SHOP_WEBHOOK_SECRET.' },
            adminToken: { type: 'http', scheme: 'bearer' },
          },
        },
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
  }

  app.get('/health', { schema: { hide: true } }, async (_request, reply) => {
    const report = await runHealthChecks(deps.health);
    return reply.status(report.status === 'ok' ? 200 : 503).send(report);
  });

  for (const { plugin, options } of deps.plugins ?? []) await app.register(plugin, options ?? {});
  return app;
}
