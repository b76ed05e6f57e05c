/**
 * One rule for words that come from the shop, in every view: product names in the reader's
 * language (falling back to the other), and the shop's codes for delivery, payment and
 * payment status in words.
 */
import type { View } from './view.js';

export interface Names {
  name: string;
  nameEn?: string | null | undefined;
}

/** The product's name in the reader's language; the other language's when that one is missing. */
export function productNameIn(lang: string, p: Names): string {
  const en = p.nameEn?.trim();
  const ru = p.name.trim();
  if (lang === 'en') return en || ru;
  return ru || en || '';
}

export const productName = (view: View, p: Names): string => productNameIn(view.lang, p);

export type ShopCodeKind = 'delivery' | 'payment' | 'payment_status';

const CODE = /^[A-Za-z0-9]+(?:[_.\-][A-Za-z0-9]+)*$/;
const MISSING = '\u0001';

/**
 * A code the shop sent ("courier", "card", "paid") in the reader's words. A known code is
 * translated (locales: orders.codes.<kind>.<code>); an unknown code reads as words
 * ("cash_on_delivery" → "Cash on delivery"); free text the shop wrote ("Курьер") is kept.
 */
export function shopCode(view: View, kind: ShopCodeKind, raw: string): string {
  const value = raw.trim();
  if (!CODE.test(value)) return value;
  const key = value.toLowerCase().replace(/[.\-]/g, '_');
  const known = view.t(`orders.codes.${kind}.${key}`, { defaultValue: MISSING });
  if (known !== MISSING) return known;
  const words = value.replace(/[_.\-]+/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
