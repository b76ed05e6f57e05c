/**
 * The `Kabinet-Signature` header, both directions: `t=<unix seconds>,v1=<hex HMAC-SHA256>`,
 * the scheme shop developers know from payment providers.
 *
 * - Shop → Kabinet API: the HMAC covers `"<t>.<METHOD>.<path>.<raw body>"`, where path is the
 *   request target exactly as sent (`/api/v1/orders/A-1/status`, with `?query` when there is
 *   one). Identifiers that live in the path or the query are signed with the body, so a body
 *   signed for one order cannot be replayed against another. The older body-only form is not
 *   accepted: it cannot be told apart safely on routes whose identifiers are in the path.
 * - Kabinet → shop webhooks: the HMAC covers `"<t>.<raw body>"`. A webhook goes to one
 *   configured URL and its body carries every identifier, so method and path would add nothing
 *   but break verification behind the shop's own proxies.
 *
 * Several `v1` entries are accepted, and several secrets can sign: during a rotation the
 * sender signs with both secrets (one `v1` each) and the receiver accepts either.
 */
import { createHmac, timingSafeEqual, type Hmac } from 'node:crypto';

export const SIGNATURE_HEADER = 'Kabinet-Signature';

/** What a request signature covers besides the body. */
export interface RequestTarget {
  method: string;
  /** The request target as sent: path and query string. */
  path: string;
}

type Secrets = string | readonly string[];
const list = (secrets: Secrets): readonly string[] => (typeof secrets === 'string' ? [secrets] : secrets);

/** The part signed before the body: `"<t>."` for webhooks, `"<t>.<METHOD>.<path>."` for API requests. */
export function signedPrefix(timestamp: number, target?: RequestTarget): string {
  return target ? `${timestamp}.${target.method.toUpperCase()}.${target.path}.` : `${timestamp}.`;
}

export function computeSignature(secret: string, timestamp: number, rawBody: string | Buffer, target?: RequestTarget): string {
  return createHmac('sha256', secret).update(signedPrefix(timestamp, target)).update(rawBody).digest('hex');
}

/** The header value for a webhook body signed at `now`: one `v1` per secret. */
export function signPayload(secrets: Secrets, rawBody: string | Buffer, now: Date = new Date()): string {
  const t = Math.floor(now.getTime() / 1000);
  return [`t=${t}`, ...list(secrets).map((s) => `v1=${computeSignature(s, t, rawBody)}`)].join(',');
}

/** The header value for a request to Kabinet's shop API (`path` with its query string, as sent). */
export function signRequest(secrets: Secrets, request: RequestTarget & { body?: string | Buffer; now?: Date }): string {
  const t = Math.floor((request.now ?? new Date()).getTime() / 1000);
  const target = { method: request.method, path: request.path };
  return [`t=${t}`, ...list(secrets).map((s) => `v1=${computeSignature(s, t, request.body ?? '', target)}`)].join(',');
}

export type SignatureProblem = 'missing' | 'malformed' | 'stale' | 'mismatch';

export type SignatureCheck = { ok: true; timestamp: number } | { ok: false; problem: SignatureProblem };

/** A header that is well formed and inside the tolerance window; the body is not checked yet. */
export interface ParsedSignature {
  timestamp: number;
  candidates: Buffer[];
}

/** Reads the header and checks its timestamp: everything that can be refused before reading a body. */
export function parseSignatureHeader(header: string | undefined, toleranceSeconds: number, now: Date = new Date()): { ok: true; value: ParsedSignature } | { ok: false; problem: SignatureProblem } {
  if (!header) return { ok: false, problem: 'missing' };
  if (header.length > 2048) return { ok: false, problem: 'malformed' };
  let timestamp: number | undefined;
  const candidates: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return { ok: false, problem: 'malformed' };
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (!/^\d{1,12}$/.test(value) || timestamp !== undefined) return { ok: false, problem: 'malformed' };
      timestamp = Number(value);
    } else if (key === 'v1') {
      if (!/^[0-9a-f]{64}$/i.test(value)) return { ok: false, problem: 'malformed' };
      candidates.push(Buffer.from(value, 'hex'));
    }
    // Unknown schemes (v0, a future v2) are ignored, as payment providers do.
  }
  if (timestamp === undefined || candidates.length === 0 || candidates.length > 8) return { ok: false, problem: 'malformed' };
  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return { ok: false, problem: 'stale' };
  return { ok: true, value: { timestamp, candidates } };
}

/**
 * Verifies a body as it streams in: feed each chunk to `update`, then `matches()`. One HMAC per
 * secret; every candidate is compared with every expected value without an early exit, so
 * timing says nothing about which matched.
 */
export function createBodyVerifier(secrets: Secrets, signature: ParsedSignature, target?: RequestTarget) {
  const hmacs: Hmac[] = list(secrets).map((s) => createHmac('sha256', s).update(signedPrefix(signature.timestamp, target)));
  return {
    update(chunk: Buffer | string): void {
      for (const h of hmacs) h.update(chunk);
    },
    matches(): boolean {
      let match = false;
      for (const h of hmacs) {
        const expected = h.digest();
        for (const candidate of signature.candidates) {
          if (timingSafeEqual(expected, candidate)) match = true;
        }
      }
      return match;
    },
  };
}

export interface VerifyOptions {
  /** One secret, or several during a rotation (any may match). */
  secret: Secrets;
  header: string | undefined;
  rawBody: string | Buffer;
  toleranceSeconds: number;
  /** API requests: the method and path are signed too. Webhooks: omitted. */
  target?: RequestTarget;
  now?: Date;
}

/** Checks the header against the body: well-formed, within the tolerance window, constant-time equal. */
export function verifySignature(options: VerifyOptions): SignatureCheck {
  const parsed = parseSignatureHeader(options.header, options.toleranceSeconds, options.now);
  if (!parsed.ok) return parsed;
  const verifier = createBodyVerifier(options.secret, parsed.value, options.target);
  verifier.update(options.rawBody);
  return verifier.matches() ? { ok: true, timestamp: parsed.value.timestamp } : { ok: false, problem: 'mismatch' };
}
