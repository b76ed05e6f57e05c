/**
 * The translator's shortcuts past i18next (remembered plain keys, values filled into compiled
 * templates): the same answers as i18next, per language, for every key of the locale files.
 */
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createTranslator, type Translator } from '../../src/infra/i18n.js';

function locales(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kabinet-i18n-'));
  const files: Record<string, unknown> = {
    ru: { greeting: 'Привет', hello: 'Привет, {{name}}', items_one: '{{count}} товар', items_few: '{{count}} товара', items_many: '{{count}} товаров' },
    en: { greeting: 'Hello', hello: 'Hello, {{name}}', items_one: '{{count}} item', items_other: '{{count}} items' },
  };
  for (const [lang, menu] of Object.entries(files)) {
    mkdirSync(join(dir, lang));
    writeFileSync(join(dir, lang, 'menu.json'), JSON.stringify(menu));
  }
  return dir;
}

/** Records every key that reaches i18next's own t() from here on; `original` asks it directly. */
function askedOfI18next(tr: Translator): { asked: string[]; original: (...a: unknown[]) => unknown } {
  const instance = tr.instance as unknown as { t: (...a: unknown[]) => unknown };
  const original = instance.t.bind(instance);
  const asked: string[] = [];
  instance.t = (...a: unknown[]) => {
    asked.push(String(a[0]));
    return original(...a);
  };
  return { asked, original };
}

describe('translator', () => {
  it('answers a plain key the same every time and per language; keys with options are translated each time', async () => {
    const tr = await createTranslator({ localesDir: locales(), languages: ['ru', 'en'], defaultLanguage: 'ru' });
    const ru = tr.t('ru');
    const en = tr.t('en-US');
    for (let i = 0; i < 3; i++) {
      expect(ru('menu.greeting')).toBe('Привет');
      expect(en('menu.greeting')).toBe('Hello');
    }
    expect(ru('menu.hello', { name: 'Анна' })).toBe('Привет, Анна');
    expect(ru('menu.hello', { name: 'Борис' })).toBe('Привет, Борис');
    expect(ru('menu.items', { count: 3 })).toBe('3 товара');
    expect(ru('menu.items', { count: 5 })).toBe('5 товаров');
    expect(en('menu.items', { count: 1 })).toBe('1 item');
    // A missing key answers the key every time; the fixed language stays on the function.
    expect(en('menu.nope')).toBe('menu.nope');
    expect(en('menu.nope')).toBe('menu.nope');
    // Remembered: a known plain key reaches i18next once; a missing key (one made from outside
    // input, a forged button payload) every time, so such keys cannot grow the memory.
    const { asked } = askedOfI18next(tr);
    const de = tr.t('ru');
    de('menu.greeting');
    de('menu.greeting');
    de('menu.forged.1');
    de('menu.forged.1');
    expect(asked.filter((k) => k.endsWith('menu.forged.1'))).toHaveLength(2);
    expect(asked.filter((k) => k.endsWith('menu.greeting'))).toHaveLength(0);
    expect((en as unknown as { lng?: string }).lng).toBe('en');
  });
});

describe('translator: values filled in without i18next', () => {
  const localesDir = fileURLToPath(new URL('../../locales', import.meta.url));
  const languages = readdirSync(localesDir).filter((name) => statSync(join(localesDir, name)).isDirectory());
  const keysOf = (lang: string): string[] => {
    const keys: string[] = [];
    const walk = (node: unknown, path: string) => {
      if (node !== null && typeof node === 'object') for (const [k, v] of Object.entries(node)) walk(v, path ? `${path}.${k}` : k);
      else keys.push(path);
    };
    for (const file of readdirSync(join(localesDir, lang))) walk(JSON.parse(readFileSync(join(localesDir, lang, file), 'utf8')), basename(file, '.json'));
    return keys;
  };
  const SUFFIX = /_(zero|one|two|few|many|other)$/;
  const counts = [0, 1, 2, 3, 4, 5, 11, 12, 14, 21, 22, 25, 101, 111, 1.5, -1, 1_000_000];
  const values: unknown[] = ['Анна', '{{name}}', '$t(menu.title)', '$& $1 $$', '<b>x</b> & "y"', '', 7, 21, 1.5, -3, null, true];

  it('every key of the locale files, in every language, with every kind of value: the same text as i18next', async () => {
    const tr = await createTranslator({ localesDir, languages, defaultLanguage: languages.includes('ru') ? 'ru' : languages[0]! });
    let compared = 0;
    for (const lang of languages) {
      const fast = tr.t(lang);
      const reference = tr.instance.getFixedT(lang);
      const keys = new Set(keysOf(lang).map((key) => key.replace(SUFFIX, '')));
      for (const key of keys) {
        const raw = [key, ...['zero', 'one', 'two', 'few', 'many', 'other'].map((s) => `${key}_${s}`)].map((k) => tr.instance.getResource(lang, 'translation', k)).filter((r): r is string => typeof r === 'string');
        const vars = [...new Set(raw.flatMap((r) => [...r.matchAll(/\{\{\s*([^}]+?)\s*\}\}/g)].map((m) => m[1]!)))];
        const optionSets: Array<Record<string, unknown>> = [];
        for (const value of values) optionSets.push(Object.fromEntries(vars.map((name) => [name, value])));
        if (vars.length > 0) optionSets.push(Object.fromEntries(vars.slice(1).map((name) => [name, 'x'])));
        optionSets.push({ ...Object.fromEntries(vars.map((name) => [name, 'v'])), context: 'male' });
        optionSets.push({ ...Object.fromEntries(vars.map((name) => [name, 'v'])), defaultValue: 'd', lng: 'en' });
        optionSets.push({ ...Object.fromEntries(vars.map((name) => [name, 'v'])), unrelated: 'u' });
        for (const count of counts) optionSets.push({ ...Object.fromEntries(vars.map((name) => [name, 'v'])), count });
        optionSets.push({ count: '3' });
        for (const options of optionSets) {
          expect(fast(key, { ...options }), `${lang} ${key} ${JSON.stringify(options)}`).toBe(reference(key, { ...options }));
          compared += 1;
        }
      }
      expect(fast('no.such.key', { name: 'x' })).toBe(reference('no.such.key', { name: 'x' }));
    }
    expect(compared).toBeGreaterThan(5_000);
  });

  it('asks i18next nothing for a known key with plain values or a plural count, and everything else still', async () => {
    const tr = await createTranslator({ localesDir: locales(), languages: ['ru', 'en'], defaultLanguage: 'ru' });
    const { asked, original } = askedOfI18next(tr);
    const ru = tr.t('ru');
    expect(ru('menu.hello', { name: 'Анна' })).toBe('Привет, Анна');
    expect(ru('menu.items', { count: 21 })).toBe('21 товар');
    expect(ru('menu.items', { count: 3 })).toBe('3 товара');
    expect(asked).toEqual([]);
    // The fallback language, a missing value, other options: i18next, with its answer.
    expect(ru('menu.items', { count: 1.5 })).toBe(original('menu.items', { lng: 'ru', count: 1.5 }));
    expect(ru('menu.hello', {})).toBe('Привет, {{name}}');
    expect(ru('menu.hello', { name: 'Анна', context: 'x' })).toBe('Привет, Анна');
    expect(asked.length).toBe(3);
  });
});
