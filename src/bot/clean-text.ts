/**
 * NUL characters (U+0000) out of everything a messenger sends, before any handler sees it.
 * PostgreSQL refuses 0x00 in text, so a NUL in a search, a support message, a name or a
 * messenger profile field would fail the write (and lose the message) wherever it lands.
 * Cleaning here, where every update enters the brain — Telegram's directly, VK's as
 * Telegram-shaped updates — covers every field and every present and future handler at once,
 * which a check in each domain write would not.
 */
import type { Context, MiddlewareFn } from 'grammy';
import { stripNul } from '../lib/strip-nul.js';

export const cleanUpdateText: MiddlewareFn<Context> = (ctx, next) => {
  stripNul(ctx.update);
  return next();
};
