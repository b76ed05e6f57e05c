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
