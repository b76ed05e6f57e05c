import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('.env.example', () => {
  it('documents every variable the config module reads', () => {
    const source = readFileSync('src/config/index.ts', 'utf8');
    const read = new Set([...source.matchAll(/r\.\w+\(\s*'([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1]!));
    const documented = readFileSync('.env.example', 'utf8');
    expect(read.size).toBeGreaterThan(30);
    expect([...read].filter((name) => !new RegExp(`\\b${name}=`).test(documented))).toEqual([]);
  });
});
