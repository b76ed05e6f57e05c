/**
 * Input rules the JSON schemas cannot say. NUL (U+0000) is valid JSON and valid JavaScript
 * but PostgreSQL refuses it in text and jsonb: the API refuses it as invalid input, naming
 * the field (item by item in batches), rather than storing something other than what was
 * sent. The customer bot strips it from what people type; a shop's backend sends data, and
 * silently changing data would hide its bug.
 */

/** The dot path of the first string (or key) holding NUL, or null. The root is "". */
export function findNul(value: unknown, path = ''): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = findNul(value[i], path ? `${path}.${i}` : String(i));
      if (hit !== null) return hit;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      const at = path ? `${path}.${key}` : key;
      if (key.includes('\u0000')) return at;
      const hit = findNul(inner, at);
      if (hit !== null) return hit;
    }
  }
  return null;
}

export const NUL_MESSAGE = 'must not contain the NUL character (U+0000)';
