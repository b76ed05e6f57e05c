/**
 * How deep a parsed JSON body nests. JSON.parse is iterative, but much that walks a value
 * afterwards is not (JSON.stringify, jsonb encoding, validators, renderers): a body nested a
 * hundred thousand levels, which fits in a few hundred kilobytes, makes them throw
 * RangeError (a 500) instead of a clear 400. Every edge that takes JSON refuses such bodies
 * first. No route needs more than a handful of levels; 32 leaves room.
 */
export const MAX_JSON_DEPTH = 32;

interface Entry {
  value: unknown;
  depth: number;
  key: string;
  parent: Entry | null;
}

/** The dot path of an entry (defined once: a closure made per call costs on every webhook body). */
function pathOf(entry: Entry): string {
  const keys: string[] = [];
  for (let e: Entry | null = entry; e?.parent; e = e.parent) keys.push(e.key);
  return keys.reverse().join('.');
}

/**
 * The dot path of the first value nested deeper than `maxDepth` ("" is the root), or null.
 * Iterative: no stack to exhaust. It runs on every webhook body, so a path is only built for
 * the value it returns (each entry points to its parent).
 */
export function findTooDeep(value: unknown, maxDepth = MAX_JSON_DEPTH): string | null {
  const stack: Entry[] = [{ value, depth: 0, key: '', parent: null }];
  while (stack.length) {
    const entry = stack.pop()!;
    const v = entry.value;
    if (!v || typeof v !== 'object') continue;
    if (entry.depth >= maxDepth) return pathOf(entry);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) if (v[i] && typeof v[i] === 'object') stack.push({ value: v[i], depth: entry.depth + 1, key: String(i), parent: entry });
    } else {
      for (const key in v) {
        const inner = (v as Record<string, unknown>)[key];
        if (inner && typeof inner === 'object' && Object.hasOwn(v, key)) stack.push({ value: inner, depth: entry.depth + 1, key, parent: entry });
      }
    }
  }
  return null;
}
