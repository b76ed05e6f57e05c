import { describe, expect, it } from 'vitest';
import { loyaltyCb, ordersCb } from '../../src/bot/keyboards/index.js';
import { NOTIFICATION_CALLBACKS } from '../../src/notifications/render.js';

describe('buttons in notifications', () => {
  it('decode as the customer bot\'s own buttons', () => {
    const id = '0190f3a2-1111-7222-8333-444455556666';
    expect(ordersCb.decode(NOTIFICATION_CALLBACKS.openOrder(id))).toEqual({ action: 'card', id, page: 0 });
    expect(loyaltyCb.decode(NOTIFICATION_CALLBACKS.openLoyalty())).toEqual({ action: 'show' });
  });
});

describe('send limiter', () => {
  it('keeps every sliding second (plus the jitter margin) at or under the cap, at 95% of it or more', async () => {
    const { smoothLimiter, sendConcurrency, LIMITER_JITTER_MS } = await import('../../src/notifications/send.worker.js');
    expect(smoothLimiter(30)).toEqual({ max: 1, duration: 35 });
    expect(smoothLimiter(20)).toEqual({ max: 1, duration: 52 });
    expect(smoothLimiter(1000)).toEqual({ max: 19, duration: 20 });
    for (const rate of [1, 2, 5, 10, 20, 25, 30, 50, 100, 300, 1000]) {
      const { max, duration } = smoothLimiter(rate);
      // Worst case inside any 1000 ms + jitter: every fixed window it touches is full.
      expect(max * (Math.floor((1000 + LIMITER_JITTER_MS) / duration) + 1), `rate ${rate}`).toBeLessThanOrEqual(rate);
      expect((max * 1000) / duration, `rate ${rate}`).toBeGreaterThanOrEqual(0.95 * rate);
    }
    expect(sendConcurrency(30)).toBe(10);
    expect(sendConcurrency(1000)).toBe(100);
  });
});
