import { describe, expect, it } from 'vitest';
import { makeStorable, stripNul, storableText } from '../../src/lib/strip-nul.js';

describe('strip-nul', () => {
  it('drops NUL from every string and key inside an update, in place, nested objects and arrays alike', () => {
    const update = { update_id: 1, message: { text: 'a\u0000b', entities: [{ type: 'bold' }, 'x\u0000'], from: { first_name: '\u0000Ann' } }, ['k\u0000ey']: 'v' } as Record<string, unknown>;
    const message = update['message'];
    expect(stripNul(update)).toBe(update);
    expect(update).toEqual({ update_id: 1, message: { text: 'ab', entities: [{ type: 'bold' }, 'x'], from: { first_name: 'Ann' } }, key: 'v' });
    expect(update['message']).toBe(message);
  });

  it('leaves a clean update as it was: same objects, same keys in the same order, nothing written', () => {
    const from = Object.freeze({ id: 7, first_name: 'Ann' });
    const update = Object.freeze({ update_id: 2, message: Object.freeze({ text: 'hello', from, entities: Object.freeze([Object.freeze({ type: 'bot_command' })]) }) });
    // Frozen: any write back (even of an unchanged value) would throw in strict mode.
    expect(() => stripNul(update)).not.toThrow();
    expect(Object.keys(update.message)).toEqual(['text', 'from', 'entities']);
  });

  it('makeStorable also replaces lone surrogates (jsonb refuses them), keeps pairs', () => {
    expect(storableText('a\ud800b\u0000')).toBe('a\ufffdb');
    expect(storableText('😀')).toBe('😀');
    expect(makeStorable({ n: ['\udc00', 'ok'] })).toEqual({ n: ['\ufffd', 'ok'] });
  });
});
