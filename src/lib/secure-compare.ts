import { hash, timingSafeEqual } from 'node:crypto';

// One-shot hashing: about half the CPU of createHash().update().digest() for a short string.
const sha256 = (s: string) => hash('sha256', s, 'buffer');

/**
 * Digests of the expected secrets (a handful from the config, each asked on every webhook):
 * hashed once, not on every request. Bounded, so a caller passing changing values cannot grow it.
 */
const expectedDigests = new Map<string, Buffer>();
function expectedDigest(secret: string): Buffer {
  let digest = expectedDigests.get(secret);
  if (!digest) {
    if (expectedDigests.size >= 32) expectedDigests.clear();
    digest = sha256(secret);
    expectedDigests.set(secret, digest);
  }
  return digest;
}

/**
 * Constant-time string equality (hashing first makes unequal lengths safe too). `expected` is
 * the secret of the config, `given` what a request brought.
 */
export function secureEqual(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), expectedDigest(expected));
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
