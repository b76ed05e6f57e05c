/**
 * Input rules the JSON schemas cannot say.
 *
 * NUL (U+0000) is valid JSON and valid JavaScript but PostgreSQL refuses it in text and jsonb:
 * the API refuses it as invalid input, naming the field (item by item in batches), rather than
 * storing something other than what was sent. The customer bot strips it from what people
 * type; a shop's backend sends data, and silently changing data would hide its bug.
 *
 * Nesting deeper than any body of this API needs is refused too, before anything walks it.
 */

/** Deeper than any shop API body (the deepest is `order.items.N.field`). */
export const MAX_DEPTH = 32;

export const NUL_MESSAGE = 'must not contain the NUL character (U+0000)';
export const DEPTH_MESSAGE = `is nested deeper than ${MAX_DEPTH} levels`;

export interface InputProblem {
  /** Dot path of the value; "" is the root. */
  at: string;
  message: string;
}

/** The first string (or key) holding NUL, or the first value nested too deep; null when clean. Iterative: no stack to exhaust. */
export function findInputProblem(value: unknown): InputProblem | null {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: '', depth: 0 }];
  const join = (path: string, key: string) => (path ? `${path}.${key}` : key);
  while (stack.length) {
    const { value: v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return { at: path, message: NUL_MESSAGE };
      continue;
    }
    if (!v || typeof v !== 'object') continue;
    if (depth >= MAX_DEPTH) return { at: path, message: DEPTH_MESSAGE };
    const entries: Array<[string, unknown]> = Array.isArray(v) ? v.map((x, i) => [String(i), x]) : Object.entries(v);
    // Pushed in reverse so the first problem in document order is found first.
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, inner] = entries[i]!;
      if (key.includes('\u0000')) return { at: join(path, key), message: NUL_MESSAGE };
      stack.push({ value: inner, path: join(path, key), depth: depth + 1 });
    }
  }
  return null;
}
