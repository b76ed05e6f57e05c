/**
 * i18next over locales/<lang>/<area>.json. Each file becomes the top-level key of its area,
 * so `locales/ru/orders.json` { "list": { "empty": ... } } is read as `orders.list.empty`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createInstance, type i18n as I18n, type TFunction } from 'i18next';

export type { TFunction };

export interface I18nSettings {
  localesDir: string;
  languages: string[];
  defaultLanguage: string;
}

export interface Translator {
  readonly languages: string[];
  readonly defaultLanguage: string;
  /** A t() bound to one language; unknown languages fall back to the default. */
  t(language: string | null | undefined): TFunction;
  /** Picks a supported language from a platform's language code ("en-US" → "en"). */
  resolveLanguage(code: string | null | undefined): string;
  readonly instance: I18n;
}

export function loadLocaleResources(localesDir: string, languages: string[]): Record<string, { translation: Record<string, unknown> }> {
  const resources: Record<string, { translation: Record<string, unknown> }> = {};
  for (const lang of languages) {
    const translation: Record<string, unknown> = {};
    const dir = join(localesDir, lang);
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
      translation[basename(file, '.json')] = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    }
    resources[lang] = { translation };
  }
  return resources;
}

/**
 * A language's t() that remembers what a plain key (no options) translated to: the resources
 * are loaded once and never change, and menus ask for the same labels on every update
 * (i18next's lookup, ~5-7% of the bot's CPU under load). Keys with options (interpolation,
 * counts, defaults) go to i18next every time, and so do keys the resources lack (the map holds
 * at most every key of the locale files).
 */
function memoized(t: TFunction): TFunction {
  const plain = new Map<string, unknown>();
  const wrapped = ((key: unknown, ...rest: unknown[]) => {
    if (typeof key !== 'string' || rest.length > 0) return (t as unknown as (...a: unknown[]) => unknown)(key, ...rest);
    let value = plain.get(key);
    if (value === undefined) {
      value = (t as unknown as (k: string) => unknown)(key);
      // Only keys the resources have (i18next answers a missing key with the key itself): a key
      // built from outside input (a button's payload) cannot grow this map.
      if (value !== key) plain.set(key, value);
    }
    return value;
  }) as unknown as TFunction;
  return Object.assign(wrapped, t);
}

export async function createTranslator(settings: I18nSettings): Promise<Translator> {
  const instance = createInstance();
  await instance.init({
    resources: loadLocaleResources(settings.localesDir, settings.languages),
    supportedLngs: settings.languages,
    fallbackLng: settings.defaultLanguage,
    interpolation: { escapeValue: false },
    returnNull: false,
    initAsync: false,
  });
  const fixed = new Map(settings.languages.map((l) => [l, memoized(instance.getFixedT(l))] as const));
  const resolveLanguage = (code: string | null | undefined): string => {
    const short = code?.toLowerCase().split(/[-_]/)[0];
    return short && fixed.has(short) ? short : settings.defaultLanguage;
  };
  return {
    languages: settings.languages,
    defaultLanguage: settings.defaultLanguage,
    t: (language) => fixed.get(resolveLanguage(language))!,
    resolveLanguage,
    instance,
  };
}
