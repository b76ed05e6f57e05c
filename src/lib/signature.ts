/**
 * The `Kabinet-Signature` header, both directions (shop → Kabinet API, Kabinet → shop
 * webhooks): `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, the scheme shop
 * developers know from payment providers. Several v1 entries are accepted so a secret can be
 * rotated (the sender signs with both while receivers move over).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Kabinet-Signature';

export function computeSignature(secret: string, timestamp: number, rawBody: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

/** The header value for `rawBody` signed at `now`. */
export function signPayload(secret: string, rawBody: string | Buffer, now: Date = new Date()): string {
  const t = Math.floor(now.getTime() / 1000);
  return `t=${t},v1=${computeSignature(secret, t, rawBody)}`;
}

export type SignatureProblem = 'missing' | 'malformed' | 'stale' | 'mismatch';

export type SignatureCheck = { ok: true; timestamp: number } | { ok: false; problem: SignatureProblem };

export interface VerifyOptions {
  secret: string;
  header: string | undefined;
  rawBody: string | Buffer;
  toleranceSeconds: number;
  now?: Date;
}

/** Checks the header against the body: well-formed, within the tolerance window, constant-time equal. */
export function verifySignature(options: VerifyOptions): SignatureCheck {
  const { header } = options;
  if (!header) return { ok: false, problem: 'missing' };
  let timestamp: number | undefined;
  const candidates: string[] = [];
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
      candidates.push(value.toLowerCase());
    }
    // Unknown schemes (v0, future v2) are ignored, as payment providers do.
  }
  if (timestamp === undefined || candidates.length === 0) return { ok: false, problem: 'malformed' };
  const nowSeconds = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (Math.abs(nowSeconds - timestamp) > options.toleranceSeconds) return { ok: false, problem: 'stale' };
  const expected = Buffer.from(computeSignature(options.secret, timestamp, options.rawBody), 'hex');
  let match = false;
  // Compare against every candidate without an early exit, so timing says nothing about which matched.
  for (const candidate of candidates) {
    if (timingSafeEqual(expected, Buffer.from(candidate, 'hex'))) match = true;
  }
  return match ? { ok: true, timestamp } : { ok: false, problem: 'mismatch' };
}
