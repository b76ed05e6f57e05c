/**
 * The staff bot's broadcast wizard as a pure state machine: the full path to a create
 * effect (text and picture), cancel at every step, a non-admin refused, bad input answered
 * and the step kept, every prompt key present in both languages.
 */
import { describe, expect, it } from 'vitest';
import { advance, parseLocalTime, promptFor, startWizard, type WizardEvent, type WizardResult, type WizardSettings, type WizardState } from '../../src/domain/broadcasts/wizard.js';
import { loadLocaleResources } from '../../src/infra/i18n.js';
import { LOCALES_DIR } from '../../src/infra/infrastructure.js';

const settings: WizardSettings = { languages: ['ru', 'en'], defaultLanguage: 'ru', timeZone: 'Europe/Moscow', now: new Date('2026-12-06T12:00:00Z') };
const count = { customers: 42, identities: 50, byPlatform: { telegram: 30, vk: 12 }, blocked: 3 };

function begin(): WizardResult {
  const r = startWizard({ isAdmin: true }, settings);
  if ('refused' in r) throw new Error('refused');
  return r;
}

function run(events: WizardEvent[]): { state: WizardState; results: WizardResult[] } {
  let r = begin();
  const results = [r];
  for (const e of events) {
    r = advance(r.state, e, settings);
    results.push(r);
  }
  return { state: r.state, results };
}

const text = (t: string): WizardEvent => ({ type: 'text', text: t });
const choice = (value: string): WizardEvent => ({ type: 'choice', value });

const happyText: WizardEvent[] = [
  text('Winter sale'),
  choice('text'),
  text('Привет, {firstName}! Скидка 20%'),
  text('Hi {firstName}! 20% off'),
  text('В магазин | Shop | https://shop.test/sale'),
  choice('segment:telegram'),
  { type: 'counted', count },
  choice('ok'),
  choice('now'),
  choice('confirm'),
  { type: 'created', id: 'b-1', status: 'sending' },
];

describe('the broadcast wizard', () => {
  it('walks from title to a create effect with the draft, counting and previewing on the way', () => {
    const { state, results } = run(happyText);
    expect(results.map((r) => r.state.step)).toEqual(['title', 'kind', 'text', 'text', 'button', 'segment', 'counting', 'audience', 'when', 'confirm', 'creating', 'done']);
    expect(results[6]!.effects).toEqual([{ type: 'count', segment: { platforms: ['telegram'] } }]);
    expect(results[7]!.prompt).toMatchObject({ key: 'broadcasts.wizard.audience', values: { customers: 42, telegram: 30, vk: 12, blocked: 3 } });
    expect(results[8]!.effects[0]).toMatchObject({ type: 'preview', content: { text: { ru: 'Привет, {firstName}! Скидка 20%', en: 'Hi {firstName}! 20% off' } } });
    expect(results[10]!.effects).toEqual([
      {
        type: 'create',
        input: { title: 'Winter sale', text: { ru: 'Привет, {firstName}! Скидка 20%', en: 'Hi {firstName}! 20% off' }, buttons: [{ text: { ru: 'В магазин', en: 'Shop' }, url: 'https://shop.test/sale' }], segment: { platforms: ['telegram'] } },
      },
    ]);
    expect(state).toMatchObject({ step: 'done', broadcastId: 'b-1' });
    // The state is plain data: it survives the session store.
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });

  it('takes a picture with captions, a skipped language, no button, a custom segment and a time', () => {
    const { state, results } = run([
      text('Photo promo'),
      choice('photo'),
      { type: 'photo', url: 'https://cdn.test/p.jpg' },
      text('Только сегодня'),
      choice('skip'),
      choice('none'),
      text('{"languages":["ru"],"orderedWithinDays":60}'),
      { type: 'counted', count },
      choice('ok'),
      choice('later'),
      text('2026-12-24 10:00'),
      choice('confirm'),
    ]);
    expect(results[4]!.prompt.key).toBe('broadcasts.wizard.askCaption');
    expect(results.at(-1)!.effects[0]).toEqual({
      type: 'create',
      input: { title: 'Photo promo', text: { ru: 'Только сегодня' }, imageUrl: 'https://cdn.test/p.jpg', segment: { languages: ['ru'], orderedWithinDays: 60 }, scheduledAt: '2026-12-24T07:00:00.000Z' },
    });
    expect(state.step).toBe('creating');
  });

  it('can be cancelled at every step before the broadcast exists, with nothing created', () => {
    for (let i = 0; i < happyText.length - 1; i++) {
      const { state } = run(happyText.slice(0, i));
      for (const cancel of [{ type: 'cancel' } as const, choice('cancel')]) {
        const r = advance(state, cancel, settings);
        if (state.step === 'creating') {
          expect(r.state.step).toBe('creating');
          expect(r.prompt.error).toBe('broadcasts.wizard.error.tooLate');
        } else {
          expect(r.state.step, `cancel at ${state.step}`).toBe('cancelled');
          expect(r.effects).toEqual([]);
        }
      }
    }
  });

  it('refuses a non-admin', () => {
    expect(startWizard({ isAdmin: false }, settings)).toEqual({ refused: true, prompt: { key: 'broadcasts.wizard.notAdmin' } });
  });

  it.each<[string, WizardEvent[], WizardEvent, string]>([
    ['a picture instead of a title', [], { type: 'photo', url: 'https://x.test/a.jpg' }, 'expectedText'],
    ['an unknown placeholder', [text('T'), choice('text')], text('Hi {name}'), 'badText'],
    ['skipping the default language', [text('T'), choice('text')], choice('skip'), 'expectedText'],
    ['a caption too long', [text('T'), choice('photo'), { type: 'photo', url: 'https://x.test/a.jpg' }], text('x'.repeat(1100)), 'badText'],
    ['a javascript: button', [text('T'), choice('text'), text('a'), text('b')], text('Go | javascript:alert(1)'), 'badButton'],
    ['a button label too long', [text('T'), choice('text'), text('a'), text('b')], text(`${'x'.repeat(41)} | https://x.test`), 'badButton'],
    ['a segment with an unknown key', [text('T'), choice('text'), text('a'), text('b'), choice('none')], text('{"everyone":true}'), 'badSegment'],
    ['a segment that is not JSON', [text('T'), choice('text'), text('a'), text('b'), choice('none')], text('everyone'), 'badSegment'],
    ['a time in the past', [text('T'), choice('text'), text('a'), text('b'), choice('none'), choice('segment:all'), { type: 'counted', count }, choice('ok'), choice('later')], text('2020-01-01 10:00'), 'pastTime'],
    ['a time that is not a time', [text('T'), choice('text'), text('a'), text('b'), choice('none'), choice('segment:all'), { type: 'counted', count }, choice('ok'), choice('later')], text('tomorrow'), 'badTime'],
  ])('answers %s and keeps the step', (_name, before, bad, error) => {
    const { state } = run(before);
    const r = advance(state, bad, settings);
    expect(r.state).toEqual(state);
    expect(r.prompt.error).toBe(`broadcasts.wizard.error.${error}`);
    expect(r.effects).toEqual([]);
  });

  it('does not go on with nobody in the segment', () => {
    const { state } = run([text('T'), choice('text'), text('a'), text('b'), choice('none'), choice('segment:vk'), { type: 'counted', count: { ...count, customers: 0 } }]);
    expect(promptFor(state, settings).choices!.map((c) => c.value)).not.toContain('ok');
    expect(advance(state, choice('ok'), settings).state.step).toBe('audience');
    expect(advance(state, choice('change'), settings).state.step).toBe('segment');
  });

  it('reads wall-clock times in the shop time zone', () => {
    expect(parseLocalTime('2026-07-01 09:30', 'Europe/Moscow')!.toISOString()).toBe('2026-07-01T06:30:00.000Z');
    expect(parseLocalTime('2026-03-29 03:30', 'Europe/Berlin')!.toISOString()).toBe('2026-03-29T01:30:00.000Z');
    expect(parseLocalTime('2026-13-01 09:30', 'Europe/Moscow')).toBeUndefined();
  });

  it('has every prompt, button and error in every language', () => {
    const resources = loadLocaleResources(LOCALES_DIR, ['ru', 'en']);
    const has = (lang: string, key: string) => key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], resources[lang]!.translation) !== undefined;
    const keys = new Set<string>();
    const walk = (events: WizardEvent[]) => run(events).results.forEach((r) => {
      keys.add(r.prompt.key);
      if (r.prompt.error) keys.add(r.prompt.error);
      for (const c of r.prompt.choices ?? []) keys.add(c.label);
    });
    walk(happyText);
    walk([text('T'), choice('photo'), text('oops')]);
    walk([text('')]);
    for (const lang of ['ru', 'en']) for (const key of keys) expect(has(lang, key), `${lang}: ${key}`).toBe(true);
  });
});
