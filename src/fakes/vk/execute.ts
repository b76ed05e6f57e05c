import { VkApiError } from './errors.js';

export interface ExecuteCall {
  method: string;
  params: Record<string, unknown>;
}

/** VK's limit of API calls inside one execute. */
export const EXECUTE_MAX_CALLS = 25;

function compileError(): VkApiError {
  return new VkApiError(12, 'Unable to compile code: only `return [API.method({...}), ...];` is supported by the fake');
}

/**
 * Parses the VKScript subset vk-io generates (`getChainReturn`):
 * `return [API.a.b({...}),API.c.d({...})];` and also a single `return API.a.b({...});`.
 * Arguments are JSON objects, scanned with a string-aware brace counter so that
 * `)` or `,API.` inside message texts cannot split a call.
 */
export function parseExecuteCode(code: string): { calls: ExecuteCall[]; array: boolean } {
  const source = code.trim();
  const m = /^return\s+/.exec(source);
  if (!m) throw compileError();
  let i = m[0].length;
  const array = source[i] === '[';
  if (array) i += 1;
  const calls: ExecuteCall[] = [];
  const skipWs = (): void => {
    while (i < source.length && /\s/.test(source[i] ?? '')) i += 1;
  };
  skipWs();
  if (array && source[i] === ']') {
    i += 1;
  } else {
    for (;;) {
      skipWs();
      const head = /^API\.([a-zA-Z]+\.[a-zA-Z]+)\(/.exec(source.slice(i, i + 80));
      if (!head?.[1]) throw compileError();
      i += head[0].length;
      skipWs();
      let params: Record<string, unknown> = {};
      if (source[i] === '{') {
        const end = scanObject(source, i);
        let parsed: unknown;
        try {
          parsed = JSON.parse(source.slice(i, end));
        } catch {
          throw compileError();
        }
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw compileError();
        params = parsed as Record<string, unknown>;
        i = end;
        skipWs();
      }
      if (source[i] !== ')') throw compileError();
      i += 1;
      calls.push({ method: head[1], params });
      skipWs();
      if (!array) break;
      if (source[i] === ',') {
        i += 1;
        continue;
      }
      if (source[i] === ']') {
        i += 1;
        break;
      }
      throw compileError();
    }
  }
  skipWs();
  if (source[i] === ';') i += 1;
  skipWs();
  if (i !== source.length) throw compileError();
  return { calls, array };
}

function scanObject(source: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < source.length; i += 1) {
    const ch = source[i];
    if (inString) {
      if (ch === '\\') i += 1;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') depth += 1;
    else if (ch === '}' || ch === ']') {
      depth -= 1;
      if (depth === 0) return i + 1;
    }
  }
  throw compileError();
}
