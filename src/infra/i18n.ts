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

/** A template of the locale files' own kind: text with `{{name}}` placeholders, nothing else. */
interface Template {
  /** Text around the placeholders: one more than `vars`. */
  texts: string[];
  vars: string[];
}

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;
/** Options that change what i18next looks up or how: a call with any of them goes to i18next. */
const RESERVED = new Set(['lng', 'lngs', 'fallbackLng', 'ns', 'context', 'defaultValue', 'replace', 'interpolation', 'skipInterpolation', 'returnObjects', 'returnDetails', 'joinArrays', 'postProcess', 'ordinal', 'keyPrefix', 'nest', 'keySeparator', 'nsSeparator', 'missingInterpolationHandler']);

/**
 * Null for anything but plain `{{name}}` placeholders (nesting `$t(...)`, formats
 * `{{x, number}}`, unescaped `{{- x}}`): i18next handles those.
 */
function compile(raw: string): Template | null {
  if (raw.includes('$t(')) return null;
  const texts: string[] = [];
  const vars: string[] = [];
  let last = 0;
  for (const match of raw.matchAll(PLACEHOLDER)) {
    texts.push(raw.slice(last, match.index));
    vars.push(match[1]!);
    last = match.index + match[0].length;
  }
  texts.push(raw.slice(last));
  return texts.some((text) => text.includes('{{')) ? null : { texts, vars };
}

/**
 * A language's t() that skips i18next's machinery where the answer is known to be the same
 * (i18next's lookup and interpolation were ~5-7 % of the bot's CPU under load and ~15 % of the
 * send worker's, which renders every notification with several interpolated keys):
 *  - a plain key (no options) is remembered: the resources are loaded once and never change;
 *  - a key with values for its placeholders (and a `count` that picks the plural form) is
 *    filled in from the language's own template, compiled once.
 * Anything else goes to i18next as before: other options, a key the language lacks (the
 * fallback language), a count of 0 (i18next's `_zero` forms), a value missing, a template with
 * more than placeholders, a namespaced key. The maps hold at most every key of the locale files:
 * a key built from outside input (a forged button payload) that the resources lack is never
 * kept. test/infra/i18n-memo.test.ts checks every key of the locale files against i18next.
 */
function fastT(t: TFunction, instance: I18n, language: string): TFunction {
  // The templates are filled as i18next fills them under this module's own settings (values not
  // escaped, `{{ }}` delimiters, no default variables, no post-processors): with any other, every
  // call with options goes to i18next.
  const o = instance.options;
  const interpolation = o.interpolation ?? {};
  const fills = interpolation.escapeValue === false && !interpolation.defaultVariables && (interpolation.prefix ?? '{{') === '{{' && (interpolation.suffix ?? '}}') === '}}' && !interpolation.alwaysFormat && !o.postProcess;
  const plain = new Map<string, unknown>();
  const templates = new Map<string, Template | null>();
  const plural = new Intl.PluralRules(language);
  const call = t as unknown as (...a: unknown[]) => unknown;
  const templateOf = (key: string): Template | null | undefined => {
    let template = templates.get(key);
    if (template === undefined) {
      const raw: unknown = instance.getResource(language, 'translation', key);
      if (typeof raw !== 'string') return undefined;
      template = compile(raw);
      templates.set(key, template);
    }
    return template;
  };
  const fill = (key: string, options: Record<string, unknown>): string | undefined => {
    if (key.includes(':')) return undefined;
    let template: Template | null | undefined;
    if (Object.hasOwn(options, 'count')) {
      const count = options.count;
      if (typeof count !== 'number' || !Number.isFinite(count) || count === 0) return undefined;
      // i18next's order within one language: the plural form, then the key itself.
      template = templateOf(`${key}_${plural.select(count)}`) ?? templateOf(key);
    } else {
      template = templateOf(key);
    }
    if (!template) return undefined;
    for (const name of Object.keys(options)) {
      if (RESERVED.has(name) || (name !== 'count' && !template.vars.includes(name))) return undefined;
    }
    let out = template.texts[0]!;
    for (let i = 0; i < template.vars.length; i++) {
      const name = template.vars[i]!;
      if (!Object.hasOwn(options, name)) return undefined;
      const value = options[name];
      if (value === undefined) return undefined;
      out += (value === null ? '' : String(value)) + template.texts[i + 1]!;
    }
    return out;
  };
  const wrapped = ((key: unknown, ...rest: unknown[]) => {
    if (typeof key !== 'string') return call(key, ...rest);
    if (rest.length === 0) {
      let value = plain.get(key);
      if (value === undefined) {
        value = call(key);
        // Only keys the resources have (i18next answers a missing key with the key itself).
        if (value !== key) plain.set(key, value);
      }
      return value;
    }
    const options = rest[0];
    if (fills && rest.length === 1 && options !== null && typeof options === 'object' && Object.getPrototypeOf(options) === Object.prototype) {
      const filled = fill(key, options as Record<string, unknown>);
      if (filled !== undefined) return filled;
    }
    return call(key, ...rest);
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
  const fixed = new Map(settings.languages.map((l) => [l, fastT(instance.getFixedT(l), instance, l)] as const));
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
