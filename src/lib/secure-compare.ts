import { createHash, timingSafeEqual } from 'node:crypto';

/** Constant-time string equality (hashing first makes unequal lengths safe too). */
export function secureEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** A secret from a request (header or body field, of any type) against the expected one. */
export function secretMatches(given: unknown, expected: string): boolean {
  return typeof given === 'string' && secureEqual(given, expected);
}

/** Checks an `Authorization: Bearer <token>` header against the expected token. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return match ? secureEqual(match[1]!.trim(), token) : false;
}
