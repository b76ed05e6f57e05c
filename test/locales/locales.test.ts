/**
 * Every text a customer or operator sees comes from locales/, in every language: the
 * languages have the same keys and the same {{placeholders}}, and every literal key the
 * code asks for exists.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLocaleResources } from '../../src/infra/i18n.js';
import { LOCALES_DIR } from '../../src/infra/infrastructure.js';

const LANGUAGES = readdirSync(LOCALES_DIR).filter((d) => statSync(join(LOCALES_DIR, d)).isDirectory());
const resources = loadLocaleResources(LOCALES_DIR, LANGUAGES);

function flatten(obj: Record<string, unknown>, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object') for (const [kk, vv] of flatten(v as Record<string, unknown>, key)) out.set(kk, vv);
    else out.set(key, String(v));
  }
  return out;
}

const flat = Object.fromEntries(LANGUAGES.map((l) => [l, flatten(resources[l]!.translation)]));
const placeholders = (s: string) => [...s.matchAll(/\{\{\s*(\w+)/g)].map((m) => m[1]).sort();
// i18next plural forms: "key_one", "key_few"... count as "key".
const base = (key: string) => key.replace(/_(zero|one|two|few|many|other)$/, '');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return d.name === 'generated' || d.name === 'fakes' ? [] : sourceFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

describe('locales', () => {
  it('has Russian and English', () => {
    expect(LANGUAGES).toEqual(expect.arrayContaining(['ru', 'en']));
  });

  it.each(LANGUAGES.filter((l) => l !== 'ru'))('%s has exactly the keys and placeholders of ru', (lang) => {
    const ru = flat.ru!;
    const other = flat[lang]!;
    const ruBases = new Set([...ru.keys()].map(base));
    const otherBases = new Set([...other.keys()].map(base));
    expect([...ruBases].filter((k) => !otherBases.has(k))).toEqual([]);
    expect([...otherBases].filter((k) => !ruBases.has(k))).toEqual([]);
    const mismatched = [...ru.entries()]
      .filter(([k, v]) => other.has(k) && placeholders(v).join() !== placeholders(other.get(k)!).join())
      .map(([k]) => k);
    expect(mismatched).toEqual([]);
  });

  it('every literal key used in src exists', () => {
    const areas = new Set(Object.keys(resources.ru!.translation));
    const known = new Set([...flat.ru!.keys()].map(base));
    const missing: string[] = [];
    for (const file of sourceFiles(join(LOCALES_DIR, '..', 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\bt\(\s*['"]([a-z][\w-]*(?:\.[\w-]+)+)['"]/g)) {
        const key = m[1]!;
        if (!areas.has(key.split('.')[0]!)) continue;
        const isBranch = [...known].some((k) => k.startsWith(`${key}.`));
        if (!known.has(key) && !isBranch) missing.push(`${file.split('/src/')[1]}: ${key}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
