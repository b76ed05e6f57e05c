/**
 * Typed callback data. Each feature declares its buttons once — a short prefix and, per
 * action, the fields it carries — and gets an encoder and a decoder that rejects anything
 * malformed (old formats, forged data) as null, so the caller answers "stale button".
 *
 * Format: "<prefix>:<action>[:field...]", kept under the channel's 64-byte limit.
 */
import { LOWER_UUID } from '../../lib/uuid.js';

type FieldKind = 'int' | 'uuid' | 'bool' | 'word';
type FieldType<K extends FieldKind> = K extends 'int' ? number : K extends 'bool' ? boolean : string;
type FieldSpec = readonly (readonly [string, FieldKind])[];
type Fields<F extends FieldSpec> = { [E in F[number] as E[0]]: FieldType<E[1]> };
type Spec = Record<string, FieldSpec>;

export type CallbackAction<S extends Spec> = { [K in keyof S & string]: { action: K } & Fields<S[K]> }[keyof S & string];

const WORD = /^[a-z0-9_]{1,20}$/;
const MAX_BYTES = 64;

export interface CallbackCodec<S extends Spec> {
  readonly prefix: string;
  /** Matches any data of this feature (for bot.callbackQuery). */
  readonly pattern: RegExp;
  encode<K extends keyof S & string>(action: K, ...values: keyof Fields<S[K]> extends never ? [] : [Fields<S[K]>]): string;
  decode(data: string | undefined): CallbackAction<S> | null;
}

export function defineCallbacks<const S extends Spec>(prefix: string, spec: S): CallbackCodec<S> {
  if (!WORD.test(prefix)) throw new Error(`Bad callback prefix ${prefix}`);
  return {
    prefix,
    pattern: new RegExp(`^${prefix}:`),
    encode(action, ...rest) {
      const fields = spec[action]!;
      const values = (rest[0] ?? {}) as Record<string, unknown>;
      const parts = [prefix, action];
      for (const [name, kind] of fields) {
        const v = values[name];
        if (kind === 'bool') parts.push(v ? '1' : '0');
        else parts.push(String(v));
      }
      const data = parts.join(':');
      if (Buffer.byteLength(data) > MAX_BYTES) throw new Error(`Callback data too long: ${data}`);
      return data;
    },
    decode(data) {
      if (!data) return null;
      const [p, action, ...raw] = data.split(':');
      if (p !== prefix || !action || !Object.hasOwn(spec, action)) return null;
      const fields = spec[action]!;
      if (raw.length !== fields.length) return null;
      const out: Record<string, unknown> = { action };
      for (let i = 0; i < fields.length; i++) {
        const [name, kind] = fields[i]!;
        const v = raw[i]!;
        switch (kind) {
          case 'int':
            if (!/^\d{1,6}$/.test(v)) return null;
            out[name] = Number(v);
            break;
          case 'bool':
            if (v !== '0' && v !== '1') return null;
            out[name] = v === '1';
            break;
          case 'uuid':
            if (!LOWER_UUID.test(v)) return null;
            out[name] = v;
            break;
          case 'word':
            if (!WORD.test(v)) return null;
            out[name] = v;
            break;
        }
      }
      return out as CallbackAction<S>;
    },
  };
}
