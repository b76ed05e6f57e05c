/**
 * The one body of every 4xx (and the masked 5xx) the HTTP edge answers, whatever raised it:
 * a request that does not match its schema, or a DomainError. Shop clients branch on `error`
 * and point at inputs through `fields`, so both sources name fields the same way: dot paths
 * into the request body or query (`product.colour`, `items.3.sku`).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { DomainError } from '../errors.js';

export const FieldProblem = Type.Object({
  field: Type.String({ description: 'Dot path into the request body or query, e.g. "product.colour", "items.3.sku"' }),
  message: Type.String(),
});

export const ErrorAnswer = Type.Object(
  {
    error: Type.String({ description: 'Stable code: invalid_request (body or query does not match the schema), invalid_input, not_found, conflict, forbidden, unauthorized, rate_limited, unavailable, payload_too_large, uri_too_long, unsupported_media_type, bad_request, internal_error' }),
    message: Type.String({ description: 'For people; do not parse' }),
    fields: Type.Optional(Type.Array(FieldProblem, { description: 'The inputs the error is about; present on 400s that concern fields' })),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Other machine-readable values, e.g. reason, retryAfterSeconds, max' })),
    requestId: Type.Optional(Type.String({ description: 'The id of this request, also in the Request-Id header and the log line; quote it when asking for help' })),
  },
  { additionalProperties: false },
);

export type ErrorBody = Static<typeof ErrorAnswer>;

/** The header that carries the request id on every answer. */
export const REQUEST_ID_HEADER = 'Request-Id';

export const withRequestId = (body: ErrorBody, requestId: string): ErrorBody => ({ ...body, requestId });

/** "/product/colour" → "product.colour"; already dotted names pass through. */
export const dotPath = (path: string): string => path.replace(/^\//, '').replace(/\//g, '.');

export function domainErrorBody(error: DomainError): ErrorBody {
  const { field, ...others } = error.details ?? {};
  const named = typeof field === 'string' && field.length > 0;
  const rest = named || field === undefined ? others : { field, ...others };
  return {
    error: error.code,
    message: error.message,
    ...(named ? { fields: [{ field: dotPath(field as string), message: error.message }] } : {}),
    ...(Object.keys(rest).length > 0 ? { details: rest } : {}),
  };
}

/** Fastify's own codes (FST_ERR_...) are its internals; the answer names the HTTP problem instead. */
const CODE_BY_STATUS: Record<number, string> = { 400: 'bad_request', 404: 'not_found', 405: 'method_not_allowed', 406: 'not_acceptable', 408: 'request_timeout', 413: 'payload_too_large', 414: 'uri_too_long', 415: 'unsupported_media_type', 429: 'rate_limited' };

/** Every status a route can answer with the error shape, for OpenAPI `response` maps. */
export const errorResponses = <S extends number>(...statuses: S[]) => Object.fromEntries(statuses.map((s) => [s, ErrorAnswer])) as Record<S, typeof ErrorAnswer>;

/** Any other 4xx (framework or transport errors): a stable code, the message, nothing else. */
export function httpErrorBody(status: number, code: string | undefined, message: string): ErrorBody {
  const stable = code && !code.startsWith('FST_') ? code : CODE_BY_STATUS[status] ?? 'bad_request';
  return { error: stable, message };
}

export function validationErrorBody(message: string, problems: Array<{ field: string; message: string | undefined }>): ErrorBody {
  return { error: 'invalid_request', message, fields: problems.map((p) => ({ field: dotPath(p.field), message: p.message ?? 'is invalid' })) };
}
