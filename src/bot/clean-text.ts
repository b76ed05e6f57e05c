/**
 * NUL characters (U+0000) out of everything a messenger sends, before any handler sees it.
 * PostgreSQL refuses 0x00 in text, so a NUL in a search, a support message, a name or a
 * messenger profile field would fail the write (and lose the message) wherever it lands.
 * Cleaning here, where every update enters the brain — Telegram's directly, VK's as
 * Telegram-shaped updates — covers every field and every present and future handler at once,
 * which a check in each domain write would not. NUL carries no meaning in chat text.
 */
import type { Context, MiddlewareFn } from 'grammy';

const NUL = /\u0000/g;

/** Returns the value with NUL removed from every string inside it; changes objects in place. */
export function stripNul<T>(value: T): T {
  if (typeof value === 'string') return (value.includes('\u0000') ? value.replace(NUL, '') : value) as T;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = stripNul(value[i]);
    return value;
  }
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) record[key] = stripNul(record[key]);
  }
  return value;
}

export const cleanUpdateText: MiddlewareFn<Context> = (ctx, next) => {
  stripNul(ctx.update);
  return next();
};
