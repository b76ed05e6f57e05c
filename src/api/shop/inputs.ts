/**
 * Input rules the JSON schemas cannot say.
 *
 * NUL (U+0000) is valid JSON but PostgreSQL refuses it in text and jsonb. The API drops it
 * from every string of a verified body, path parameter and query value, as the bot does with
 * every update (src/lib/strip-nul.ts), so a NUL never turns a write or a batch into a 500 and
 * the product treats it one way everywhere. The signature covers the bytes as sent.
 *
 * Nesting deeper than any body of this API needs is refused before anything walks it
 * recursively.
 */

/** Deeper than any shop API body (the deepest is `order.items.N.field`). */
export const MAX_DEPTH = 32;

export const DEPTH_MESSAGE = `is nested deeper than ${MAX_DEPTH} levels`;

/** The dot path of the first value nested deeper than MAX_DEPTH ("" is the root), or null. Iterative: no stack to exhaust. */
export function findTooDeep(value: unknown): string | null {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: '', depth: 0 }];
  while (stack.length) {
    const { value: v, path, depth } = stack.pop()!;
    if (!v || typeof v !== 'object') continue;
    if (depth >= MAX_DEPTH) return path;
    const entries: Array<[string, unknown]> = Array.isArray(v) ? v.map((x, i) => [String(i), x]) : Object.entries(v);
    for (const [key, inner] of entries) stack.push({ value: inner, path: path ? `${path}.${key}` : key, depth: depth + 1 });
  }
  return null;
}
