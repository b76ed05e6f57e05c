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
  it('spreads the cap evenly so no sliding second exceeds it', async () => {
    const { smoothLimiter, sendConcurrency } = await import('../../src/notifications/send.worker.js');
    expect(smoothLimiter(30)).toEqual({ max: 1, duration: 34 });
    expect(smoothLimiter(20)).toEqual({ max: 1, duration: 50 });
    expect(smoothLimiter(1000)).toEqual({ max: 1, duration: 1 });
    for (const rate of [1, 20, 30, 100, 1000]) {
      const { max, duration } = smoothLimiter(rate);
      // Worst case inside any 1000 ms: every window it touches is full.
      expect(max * Math.ceil(1000 / duration)).toBeLessThanOrEqual(rate);
    }
    expect(sendConcurrency(30)).toBe(10);
    expect(sendConcurrency(1000)).toBe(100);
  });
});
