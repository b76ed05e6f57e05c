import { describe, expect, it } from 'vitest';
import { fitText, MAX_TEXT_LENGTH } from '../../src/bot/render.js';
import { clip, clipUtf16 } from '../../src/lib/clip.js';

const wellFormed = (s: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

describe('clip and clipUtf16', () => {
  it('never split an emoji', () => {
    const text = `a${'😀'.repeat(50)}`;
    expect(clip(text, 10)).toBe(`a${'😀'.repeat(8)}…`);
    for (let max = 2; max < 40; max++) {
      const cut = clipUtf16(text, max);
      expect(cut.length, String(max)).toBeLessThanOrEqual(max);
      expect(wellFormed(cut), String(max)).toBe(true);
      expect(cut.endsWith('…')).toBe(true);
    }
    expect(clipUtf16('short', 10)).toBe('short');
  });

  it('fitText cuts one enormous line of emoji without breaking one', () => {
    const fitted = fitText(`<b>a${'😀'.repeat(3000)}</b>`);
    expect(fitted.length).toBeLessThanOrEqual(MAX_TEXT_LENGTH);
    expect(wellFormed(fitted)).toBe(true);
    expect(fitted.endsWith('😀…')).toBe(true);
  });
});
