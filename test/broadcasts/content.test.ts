/**
 * What a customer reads: placeholders filled in the customer's language (a missing name, the
 * points formatted, the tier's name), plain text that no value can turn into markup, the
 * platform forms (Telegram call, VK params), content refusals, and a CSV no spreadsheet runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlaceholderSource } from '../../src/broadcasts/render.js';
import { fillPlaceholders, parseContent, renderMessage, telegramCall, vkParams } from '../../src/domain/broadcasts/content.js';
import { csvField, messageKey, vkRandomId } from '../../src/domain/broadcasts/broadcasts.service.js';
import { DomainError } from '../../src/errors.js';
import { createTestContext, type TestContext } from '../support/context.js';

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext();
  await ctx.prisma.loyaltyTier.upsert({ where: { code: 'gold' }, create: { code: 'gold', name: 'Золотой', nameEn: 'Gold', minSpend: '60000', accrualPercent: '7', sortOrder: 3 }, update: { name: 'Золотой', nameEn: 'Gold' } });
});
afterAll(async () => {
  await ctx?.close();
});

const content = parseContent({ text: { ru: 'Привет, {firstName}! Баллы: {points}, уровень: {tier}.', en: 'Hi {firstName}! Points: {points}, tier: {tier}.' }, buttons: [{ text: { ru: 'Купить', en: 'Buy' }, url: 'https://shop.test/a?b=1&c=2' }] }, ['ru', 'en'], 'ru');

describe('broadcast content', () => {
  it('fills placeholders in the customer language', async () => {
    const values = createPlaceholderSource({ prisma: ctx.prisma, translator: ctx.translator });
    const ru = renderMessage(content, 'ru', 'ru', await values({ language: 'ru', firstName: 'Анна', points: 12500, tierCode: 'gold' }));
    expect(ru.text).toBe('Привет, Анна! Баллы: 12\u00a0500, уровень: Золотой.');
    const en = renderMessage(content, 'en', 'ru', await values({ language: 'en', firstName: null, points: 12500, tierCode: null }));
    expect(en.text).toBe('Hi friend! Points: 12,500, tier: member.');
    expect(en.buttons).toEqual([{ text: 'Buy', url: 'https://shop.test/a?b=1&c=2' }]);
    // A language without its own text gets the default one.
    const de = renderMessage(content, 'de', 'ru', await values({ language: 'de', firstName: 'Jo', points: 1, tierCode: 'gold' }));
    expect(de.text).toBe('Привет, Jo! Баллы: 1, уровень: Золотой.');
  });

  it('keeps values literal: no markup, no second expansion', () => {
    const text = fillPlaceholders('Hi {firstName}, {points}', { firstName: '<b>{points}</b> *x*', points: '5', tier: '' });
    expect(text).toBe('Hi <b>{points}</b> *x*, 5');
    const call = telegramCall({ text, imageUrl: null, buttons: [] }, '42');
    expect(call).toEqual({ method: 'sendMessage', payload: { chat_id: '42', text, link_preview_options: { is_disabled: false } } });
    expect(call.payload).not.toHaveProperty('parse_mode');
  });

  it('builds the platform forms: a photo with caption and URL buttons, a VK inline keyboard of links', () => {
    const photo = telegramCall({ text: 'c', imageUrl: 'https://cdn.test/p.jpg', buttons: [{ text: 'Go', url: 'https://x.test' }] }, '7');
    expect(photo).toEqual({ method: 'sendPhoto', payload: { chat_id: '7', photo: 'https://cdn.test/p.jpg', caption: 'c', reply_markup: { inline_keyboard: [[{ text: 'Go', url: 'https://x.test' }]] } } });
    const vk = vkParams({ text: 't', imageUrl: null, buttons: [{ text: 'Go', url: 'https://x.test' }] }, 'photo-1_2');
    expect(vk.attachment).toBe('photo-1_2');
    expect(JSON.parse(vk.keyboard!)).toEqual({ inline: true, buttons: [[{ action: { type: 'open_link', link: 'https://x.test', label: 'Go' } }]] });
  });

  it('derives VK random_id from broadcast and chunk, and groups identical messages', () => {
    expect(vkRandomId('b1', 3)).toBe(vkRandomId('b1', 3));
    expect(vkRandomId('b1', 3)).not.toBe(vkRandomId('b1', 4));
    expect(vkRandomId('b1', 3)).not.toBe(vkRandomId('b2', 3));
    expect(vkRandomId('b1', 0)).toBeGreaterThan(0);
    expect(vkRandomId('b1', 0)).toBeLessThan(2 ** 31);
    const m = { text: 'a', imageUrl: null, buttons: [] };
    expect(messageKey(m)).toBe(messageKey({ ...m }));
    expect(messageKey(m)).not.toBe(messageKey({ ...m, text: 'b' }));
  });

  it.each([
    ['an empty text', { text: { ru: '  ' } }],
    ['a text not an object', { text: 'hi' }],
    ['too many buttons', { text: { ru: 'x' }, buttons: Array.from({ length: 6 }, () => ({ text: { ru: 'b' }, url: 'https://x.test' })) }],
    ['a placeholder in a button', { text: { ru: 'x' }, buttons: [{ text: { ru: '{firstName}' }, url: 'https://x.test' }] }],
    ['an ftp picture', { text: { ru: 'x' }, imageUrl: 'ftp://x.test/p.jpg' }],
  ])('refuses %s', (_name, input) => {
    expect(() => parseContent(input as never, ['ru', 'en'], 'ru')).toThrow(DomainError);
  });

  it('writes CSV fields a spreadsheet shows as text', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvField('-1')).toBe("'-1");
  });
});
