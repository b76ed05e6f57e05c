/**
 * Reading a shop API request in the order that keeps an unsigned one cheap:
 *  1. onRequest: the Kabinet-Signature header must be there, well formed and fresh, and a
 *     declared Content-Length must fit the route's cap. Nothing of the body is read yet.
 *  2. the body parser streams the raw bytes, stopping at the route's cap (413), feeding them
 *     to the HMAC as they arrive; a mismatch is a 401 and the bytes are never parsed.
 *  3. only a verified body is decoded and parsed as JSON. A body that is not JSON (by syntax
 *     or media type) is then a 400 or a 415, never before the signature. NUL is dropped from
 *     its strings and absurd nesting refused (inputs.ts).
 * Requests without a body (GET) are verified over the empty body in preValidation.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { DomainError } from '../../errors.js';
import type { Clock } from '../../infra/clock.js';
import { createBodyVerifier, parseSignatureHeader, SIGNATURE_HEADER, type ParsedSignature, type SignatureProblem } from '../../lib/signature.js';
import { makeStorable } from '../../lib/strip-nul.js';
import { DEPTH_MESSAGE, findTooDeep } from './inputs.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified raw body (empty for bodiless requests). */
    rawBody?: Buffer;
    signature?: ParsedSignature;
    signatureVerified?: boolean;
    jsonError?: string;
    unsupportedMediaType?: boolean;
    emptyBody?: boolean;
    /** Where a verified body nests deeper than any route needs. */
    tooDeep?: string;
  }
}

export interface SignedBodyOptions {
  /** Accepted secrets (two while rotating). Empty: the API answers 503 to everything. */
  secrets: readonly string[];
  toleranceSeconds: number;
  clock: Clock;
}

const WHY: Record<SignatureProblem, string> = {
  missing: 'Missing Kabinet-Signature header',
  malformed: 'Malformed Kabinet-Signature header (expected t=<unix seconds>,v1=<64 hex>)',
  stale: 'Signature timestamp is outside the tolerance window',
  mismatch: 'Signature does not match: sign "<t>.<METHOD>.<path with query>.<raw body>" with HMAC-SHA256',
};

const refused = (problem: SignatureProblem) => new DomainError('unauthorized', WHY[problem], { reason: problem });

export class HttpProblem extends Error {
  constructor(readonly statusCode: number, readonly code: string, message: string, readonly details?: Record<string, unknown>) {
    super(message);
  }
}

const tooLarge = (limit: number) => new HttpProblem(413, 'payload_too_large', `Body over ${limit} bytes`, { max: limit });

/** The request target as the client sent it (path and query), which the signature covers. */
export const signedTarget = (request: FastifyRequest) => ({ method: request.method, path: request.raw.url ?? request.url });

/** Streams the body with a cap, feeding the verifier; resolves with the bytes once verified. */
function readVerified(request: FastifyRequest, payload: IncomingMessage, secrets: readonly string[]): Promise<Buffer> {
  const limit = request.routeOptions.bodyLimit ?? 1024 * 1024;
  const verifier = createBodyVerifier(secrets, request.signature!, signedTarget(request));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (err: Error | null, value?: Buffer) => {
      if (settled) return;
      settled = true;
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      if (err) {
        // Stop holding what was read; let the rest drain so the answer can be written.
        chunks.length = 0;
        payload.resume();
        reject(err);
      } else resolve(value!);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return finish(tooLarge(limit));
      verifier.update(chunk);
      chunks.push(chunk);
    };
    const onEnd = () => {
      if (!verifier.matches()) return finish(refused('mismatch'));
      finish(null, Buffer.concat(chunks, size));
    };
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', (err) => finish(err));
  });
}

export function installSignedBody(app: FastifyInstance, opts: SignedBodyOptions): void {
  app.addHook('onRequest', async (request) => {
    if (opts.secrets.length === 0) throw new DomainError('unavailable', 'The shop API is not configured (SHOP_API_SECRET)');
    const parsed = parseSignatureHeader(request.headers[SIGNATURE_HEADER.toLowerCase()] as string | undefined, opts.toleranceSeconds, opts.clock.now());
    if (!parsed.ok) throw refused(parsed.problem);
    request.signature = parsed.value;
    const limit = request.routeOptions.bodyLimit ?? 1024 * 1024;
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > limit) throw tooLarge(limit);
  });

  // Fastify's own parsers would parse before we verify: every media type goes through ours.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (request, payload, done) => {
    readVerified(request, payload, opts.secrets).then(
      (raw) => {
        request.rawBody = raw;
        request.signatureVerified = true;
        request.unsupportedMediaType = true;
        done(null, undefined);
      },
      (err: Error) => done(err),
    );
  });
  app.addContentTypeParser('application/json', (request, payload, done) => {
    readVerified(request, payload, opts.secrets).then(
      (raw) => {
        request.rawBody = raw;
        request.signatureVerified = true;
        if (raw.length === 0) {
          request.emptyBody = true;
          return done(null, undefined);
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(raw.toString('utf8'));
        } catch (err) {
          request.jsonError = (err as Error).message;
          return done(null, undefined);
        }
        const deep = findTooDeep(parsed);
        if (deep !== null) {
          request.tooDeep = deep;
          return done(null, undefined);
        }
        // NUL out of every string (PostgreSQL refuses it), as the bot does, and lone surrogates
        // (jsonb refuses them); see inputs.ts and src/lib/strip-nul.ts.
        done(null, makeStorable(parsed));
      },
      (err: Error) => done(err),
    );
  });

  app.addHook('preValidation', async (request) => {
    if (!request.signatureVerified) {
      // No body was read (GET, or a request without a body): the signature covers the empty body.
      const verifier = createBodyVerifier(opts.secrets, request.signature!, signedTarget(request));
      if (!verifier.matches()) throw refused('mismatch');
      request.rawBody = Buffer.alloc(0);
      request.signatureVerified = true;
    }
    if (request.unsupportedMediaType) throw new HttpProblem(415, 'unsupported_media_type', 'Content-Type must be application/json');
    if (request.jsonError) throw new DomainError('invalid_input', `Body is not valid JSON: ${request.jsonError}`, { field: 'body' });
    if (request.tooDeep !== undefined) throw new DomainError('invalid_input', `${request.tooDeep || 'body'} ${DEPTH_MESSAGE}`, { field: request.tooDeep || 'body' });
    if (request.emptyBody && request.routeOptions.schema?.body) throw new DomainError('invalid_input', 'Body is empty; a JSON object is expected', { field: 'body' });
  });
}
