/**
 * One Fastify plugin for a shop platform's webhooks: the signature header is required before a
 * byte of the body is read (an unsigned request is refused at once, except the platform's
 * own unsigned ping), the raw body is read with a cap, its base64 HMAC-SHA256 is checked in
 * constant time, and only then is it parsed. What the platform sent is then handed to the
 * adapter, which answers 200 for everything it handled or refused (a refused payload is
 * stored, not retried forever) and lets a transient failure answer 5xx so the platform retries.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { isSafeNumber, parse as parseLossless } from 'lossless-json';
import { DomainError } from '../errors.js';
import { storableText as storable } from '../lib/strip-nul.js';
import { ErrorAnswer } from '../server/error-answer.js';
import type { EventStatus } from './ingest.js';

export interface PlatformWebhookOptions {
  /** Route path inside the plugin's prefix, e.g. "/woocommerce/webhook". */
  path: string;
  platformName: string;
  secret: string;
  /** Lower-case header carrying base64(HMAC-SHA256(secret, raw body)). */
  signatureHeader: string;
  bodyLimitBytes: number;
  /** An unsigned request the platform sends to test the URL (WooCommerce's ping); answered 200, changes nothing. */
  isUnsignedPing?: (contentType: string | undefined, raw: Buffer) => boolean;
  handle(request: FastifyRequest, body: unknown): Promise<EventStatus>;
  /** A signed body that is not JSON: recorded as refused by the adapter. */
  refuseUnparsable(request: FastifyRequest, reason: string): Promise<void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    platformRawBody?: Buffer;
  }
}

/** base64 HMAC-SHA256 of the raw body against the header, in constant time. */
export function hmacBase64Matches(secret: string, raw: Buffer, header: string): boolean {
  const expected = createHmac('sha256', secret).update(raw).digest();
  let given: Buffer;
  try {
    given = Buffer.from(header.trim(), 'base64');
  } catch {
    return false;
  }
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * JSON.parse that keeps integers beyond 2^53 exact, as strings (Shopify's ids reach 10^17 and
 * JSON.parse would round them, so two resources could share an id), and makes every string and
 * every key storable: NUL dropped, as the bot and the API do, and a lone surrogate replaced.
 * A refused payload is stored as jsonb, which refuses both (a 500 the platform would retry).
 */
export function parsePlatformJson(text: string): unknown {
  return parseLossless(
    text,
    (_key, value) => {
      if (typeof value === 'string') return storable(value);
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        const record = value as Record<string, unknown>;
        for (const key of Object.keys(record)) {
          const clean = storable(key);
          if (clean === key) continue;
          const inner = record[key];
          delete record[key];
          record[clean] = inner;
        }
      }
      return value;
    },
    (digits) => (isSafeNumber(digits) ? Number(digits) : /^-?\d+$/.test(digits) ? digits : Number(digits)),
  );
}

const Answer = Type.Object({ ok: Type.Boolean(), status: Type.String({ description: 'applied | duplicate | stale | ignored | refused | ping' }) });

export const platformWebhookPlugin: FastifyPluginAsync<PlatformWebhookOptions> = async (app, opts) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: opts.bodyLimitBytes }, (request, body, done) => {
    request.platformRawBody = body as Buffer;
    done(null, undefined);
  });

  app.post(opts.path, {
    bodyLimit: opts.bodyLimitBytes,
    schema: {
      tags: ['integrations'],
      summary: `${opts.platformName} webhooks (orders, products, customers)`,
      description: `Paste this URL into ${opts.platformName}'s webhook settings. Signed by the platform (${opts.signatureHeader}); see README.`,
      response: { 200: Answer, 401: ErrorAnswer, 413: ErrorAnswer, 503: ErrorAnswer },
    },
    // Refuse unsigned requests before the body is read (the ping is small and form-encoded).
    onRequest: async (request) => {
      if (request.headers[opts.signatureHeader] !== undefined) return;
      const type = request.headers['content-type'];
      const length = Number(request.headers['content-length'] ?? 'NaN');
      if (opts.isUnsignedPing && /^application\/x-www-form-urlencoded/i.test(type ?? '') && Number.isFinite(length) && length <= 64) return;
      throw new DomainError('unauthorized', `Missing ${opts.signatureHeader} header`, { reason: 'missing' });
    },
  }, async (request) => {
    const raw = request.platformRawBody ?? Buffer.alloc(0);
    const header = request.headers[opts.signatureHeader];
    if (header === undefined) {
      if (opts.isUnsignedPing?.(request.headers['content-type'], raw)) return { ok: true, status: 'ping' };
      throw new DomainError('unauthorized', `Missing ${opts.signatureHeader} header`, { reason: 'missing' });
    }
    if (typeof header !== 'string' || !hmacBase64Matches(opts.secret, raw, header)) {
      throw new DomainError('unauthorized', 'Signature does not match', { reason: 'mismatch' });
    }
    let body: unknown;
    try {
      body = parsePlatformJson(raw.toString('utf8'));
    } catch (err) {
      // The parser quotes the character it stopped at, which may be a NUL or half a surrogate pair.
      await opts.refuseUnparsable(request, storable(`body is not JSON: ${(err as Error).message.slice(0, 200)}`));
      return { ok: true, status: 'refused' };
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      await opts.refuseUnparsable(request, 'body is not a JSON object');
      return { ok: true, status: 'refused' };
    }
    return { ok: true, status: await opts.handle(request, body) };
  });
};
