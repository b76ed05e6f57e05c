import { badRequest } from './errors.js';
import type { UploadedPart } from './request-body.js';

/**
 * Request parameters from JSON, a form, multipart or the query string.
 * Forms carry only strings, so every getter accepts both the typed and the string form.
 */
export class Params {
  constructor(
    readonly raw: Record<string, unknown>,
    readonly files: ReadonlyMap<string, UploadedPart> = new Map(),
  ) {}

  has(key: string): boolean {
    const value = this.raw[key];
    return value !== undefined && value !== null && value !== '';
  }

  str(key: string): string | undefined {
    const value = this.raw[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    return JSON.stringify(value);
  }

  int(key: string): number | undefined {
    const value = this.raw[key];
    if (value === undefined || value === null || value === '') return undefined;
    const n = typeof value === 'number' ? value : Number(value);
    if (!Number.isInteger(n)) throw badRequest(`invalid ${key} specified`);
    return n;
  }

  requiredInt(key: string): number {
    const n = this.int(key);
    if (n === undefined) throw badRequest(`${key} is empty`);
    return n;
  }

  bool(key: string): boolean {
    const value = this.raw[key];
    return value === true || value === 'true' || value === '1' || value === 1;
  }

  /** A JSON-serialized field: forms send it as a string, JSON bodies as the value itself. */
  json(key: string, parseError: () => Error): unknown {
    const value = this.raw[key];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      throw parseError();
    }
  }

  /** chat_id: an integer or "@username". */
  chatId(key = 'chat_id'): number | string {
    const value = this.raw[key];
    if (value === undefined || value === null || value === '') throw badRequest(`${key} is empty`);
    if (typeof value === 'number') return value;
    const text = String(value);
    if (text.startsWith('@')) return text;
    const n = Number(text);
    if (!Number.isInteger(n)) throw badRequest('chat not found');
    return n;
  }
}
