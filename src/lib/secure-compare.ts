import { createHash, timingSafeEqual } from 'node:crypto';

/** Constant-time string equality (hashing first makes unequal lengths safe too). */
export function secureEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** Checks an `Authorization: Bearer <token>` header against the expected token. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return match ? secureEqual(match[1]!.trim(), token) : false;
}
