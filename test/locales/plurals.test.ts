/**
 * Counted texts agree with their number: Russian has one/few/many forms ("1 балл",
 * "2 балла", "5 баллов", "21 балл"), English one/other. Every text that puts a number right
 * before a counted noun is a plural key fed with `count`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createTranslator, loadLocaleResources, type Translator } from '../../src/infra/i18n.js';
import { LOCALES_DIR } from '../../src/infra/infrastructure.js';

let translator: Translator;
beforeAll(async () => {
  translator = await createTranslator({ localesDir: LOCALES_DIR, languages: ['ru', 'en'], defaultLanguage: 'ru' });
});

function flatten(obj: Record<string, unknown>, prefix = ''): Array<[string, string]> {
  return Object.entries(obj).flatMap(([k, v]) => {
    const key = prefix ? `${prefix}.${k}` : k;
    return v && typeof v === 'object' ? flatten(v as Record<string, unknown>, key) : [[key, String(v)] as [string, string]];
  });
}

const PLURAL = /_(zero|one|two|few|many|other)$/;
/** A placeholder followed by a counted noun ("{{points}} баллов", "<b>{{n}}</b> points"). */
const COUNTED: Record<string, RegExp> = {
  ru: /\{\{\s*\w+\s*\}\}(?:<\/b>)?\s+(балл|товар|заказ|дн|дне|адрес|позици|попыт|минут|секунд|штук)/i,
  en: /\{\{\s*\w+\s*\}\}(?:<\/b>)?\s+(points?|items?|orders?|days?|addresses|address|attempts?|minutes?|seconds?)\b/i,
};
const REQUIRED_FORMS: Record<string, string[]> = { ru: ['one', 'few', 'many', 'other'], en: ['one', 'other'] };

describe('plurals', () => {
  it.each(['ru', 'en'])('%s: a number before a counted noun is always a complete plural key with {{count}}', (lang) => {
    const entries = flatten(loadLocaleResources(LOCALES_DIR, [lang])[lang]!.translation);
    const keys = new Set(entries.map(([k]) => k));
    const problems: string[] = [];
    for (const [key, value] of entries) {
      if (!COUNTED[lang]!.test(value)) continue;
      if (!PLURAL.test(key)) problems.push(`${key}: not a plural key`);
      else if (!value.includes('{{count}}')) problems.push(`${key}: the number is not {{count}}`);
      const base = key.replace(PLURAL, '');
      for (const form of REQUIRED_FORMS[lang]!) if (!keys.has(`${base}_${form}`)) problems.push(`${base}: no _${form}`);
    }
    expect([...new Set(problems)]).toEqual([]);
  });

  it('Russian points agree with the number', () => {
    const t = translator.t('ru');
    const expectations: Array<[number, string]> = [[1, '1 балл'], [2, '2 балла'], [5, '5 баллов'], [11, '11 баллов'], [21, '21 балл'], [122, '122 балла'], [850, '850 баллов']];
    for (const [count, words] of expectations) {
      expect(t('notifications.loyalty.creditedNoOrder', { count })).toContain(words);
      expect(t('notifications.loyalty.balance', { count })).toContain(words);
      expect(t('loyalty.balance', { count }).replace(/<\/?b>/g, '')).toContain(words);
    }
    expect(t('notifications.loyalty.credited', { count: 122, number: 'A-1' })).toBe('Начислено 122 балла за заказ №A-1.');
    expect(t('notifications.loyalty.credited', { count: 21, number: 'A-1' })).toBe('Начислен 21 балл за заказ №A-1.');
    expect(t('loyalty.expiring', { count: 1, date: '01.03.2026' })).toBe('⏳ 1 балл сгорит 01.03.2026');
    expect(t('loyalty.expiring', { count: 3, date: '01.03.2026' })).toBe('⏳ 3 балла сгорят 01.03.2026');
    expect(t('addresses.limit', { count: 10 })).toBe('Можно сохранить не больше 10 адресов.');
  });

  it('English points agree with the number', () => {
    const t = translator.t('en');
    expect(t('notifications.loyalty.creditedNoOrder', { count: 1 })).toBe('1 point credited.');
    expect(t('notifications.loyalty.creditedNoOrder', { count: 122 })).toBe('122 points credited.');
    expect(t('loyalty.expiring', { count: 1, date: '1 March 2026' })).toBe('⏳ 1 point expires on 1 March 2026');
    expect(t('addresses.limit', { count: 10 })).toBe('You can keep at most 10 addresses.');
  });
});
