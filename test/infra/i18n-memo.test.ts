/** The translator's remembered plain keys: the same answers as i18next, per language, options always fresh. */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTranslator } from '../../src/infra/i18n.js';

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
    const instance = tr.instance as unknown as { t: (...a: unknown[]) => unknown };
    const original = instance.t.bind(instance);
    const asked: string[] = [];
    instance.t = (...a: unknown[]) => {
      asked.push(String(a[0]));
      return original(...a);
    };
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
