/**
 * How deep a parsed JSON body nests. JSON.parse is iterative, but much that walks a value
 * afterwards is not (JSON.stringify, jsonb encoding, validators, renderers): a body nested a
 * hundred thousand levels, which fits in a few hundred kilobytes, makes them throw
 * RangeError (a 500) instead of a clear 400. Every edge that takes JSON refuses such bodies
 * first. No route needs more than a handful of levels; 32 leaves room.
 */
export const MAX_JSON_DEPTH = 32;

/** The dot path of the first value nested deeper than `maxDepth` ("" is the root), or null. Iterative: no stack to exhaust. */
export function findTooDeep(value: unknown, maxDepth = MAX_JSON_DEPTH): string | null {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: '', depth: 0 }];
  while (stack.length) {
    const { value: v, path, depth } = stack.pop()!;
    if (!v || typeof v !== 'object') continue;
    if (depth >= maxDepth) return path;
    const entries: Array<[string, unknown]> = Array.isArray(v) ? v.map((x, i) => [String(i), x]) : Object.entries(v);
    for (const [key, inner] of entries) stack.push({ value: inner, path: path ? `${path}.${key}` : key, depth: depth + 1 });
  }
  return null;
}
