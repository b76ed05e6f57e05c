import { describe, expect, it } from 'vitest';
import { bearerMatches, secretMatches, secureEqual } from '../../src/lib/secure-compare.js';

describe('secure compare', () => {
  it('matches only the exact secret, whatever the lengths and types given', () => {
    expect(secureEqual('s3cret', 's3cret')).toBe(true);
    for (const given of ['s3creT', 's3cre', 's3cret ', '', 'ы'.repeat(6)]) expect(secureEqual(given, 's3cret')).toBe(false);
    for (const given of [undefined, null, 42, ['s3cret'], { s: 1 }]) expect(secretMatches(given, 's3cret')).toBe(false);
    expect(secretMatches('s3cret', 's3cret')).toBe(true);
    expect(bearerMatches('Bearer tok-1', 'tok-1')).toBe(true);
    expect(bearerMatches('bearer   tok-1 ', 'tok-1')).toBe(true);
    for (const header of [undefined, '', 'tok-1', 'Basic tok-1', 'Bearer tok-2', 'Bearer ']) expect(bearerMatches(header, 'tok-1')).toBe(false);
  });

  it('stays right past its cache of expected digests (many different secrets, each asked again)', () => {
    const secrets = Array.from({ length: 100 }, (_, i) => `secret-${i}`);
    for (let round = 0; round < 2; round++) {
      for (const [i, secret] of secrets.entries()) {
        expect(secureEqual(secret, secret)).toBe(true);
        expect(secureEqual(secrets[(i + 1) % secrets.length]!, secret)).toBe(false);
      }
    }
  });
});
