import { describe, expect, it } from 'vitest';
import { uuidV7 } from '../../src/lib/uuid.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidV7', () => {
  it('is a version 7 UUID whose first 48 bits are the Unix milliseconds', () => {
    const at = Date.UTC(2026, 11, 6, 18, 0, 0, 123);
    const id = uuidV7(at);
    expect(id).toMatch(V7);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
  });

  it('sorts by time across milliseconds and never repeats', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => uuidV7(1_765_000_000_000 + Math.floor(i / 100)));
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 100; i < ids.length; i += 100) expect(ids[i - 1]! < ids[i]!).toBe(true);
  });
});
