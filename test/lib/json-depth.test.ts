import { describe, expect, it } from 'vitest';
import { findTooDeep } from '../../src/lib/json-depth.js';

const nest = (levels: number, leaf: unknown = 1): unknown => {
  let v = leaf;
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
};

describe('findTooDeep', () => {
  it('names the path of the first value nested too deep, through objects and arrays', () => {
    expect(findTooDeep({ x: 1, y: [{ z: 'ok' }] }, 3)).toBeNull();
    expect(findTooDeep({ x: 1, y: [{ z: { w: {} } }] }, 3)).toBe('y.0.z');
    expect(findTooDeep(nest(3), 3)).toBeNull();
    expect(findTooDeep(nest(4), 3)).toBe('a.a.a');
    expect(findTooDeep({}, 0)).toBe('');
    expect(findTooDeep('text', 0)).toBeNull();
  });

  it('walks a hundred thousand levels without exhausting the stack', () => {
    expect(findTooDeep(nest(100_000))?.split('.')).toHaveLength(32);
  });
});
