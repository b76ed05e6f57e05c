/**
 * A guest who types their phone without pressing "Log in" (what VK's login asks for, or a
 * flow that expired): the login starts with that phone. On VK the code goes out at once; on
 * Telegram, where a typed number proves nothing, the share-contact button is offered.
 */
import { describe, expect, it } from 'vitest';
import type { Platform } from '../../src/channels/outbound.js';
import { normalizePhone } from '../../src/domain/customers/phone.js';
import { createCustomer } from '../support/factories.js';
import { DRIVERS, type DriverFactory } from './drivers.js';
import { phoneNumbers, useWorld } from './setup.js';

const world = useWorld();
const newPhone = phoneNumbers('915');

describe.each(DRIVERS)('a phone typed outside the login flow on %s', (platform: Platform, make: DriverFactory) => {
  const ru = () => world().ctx.translator.t('ru');
  const identity = (externalId: string) => world().ctx.prisma.channelIdentity.findUniqueOrThrow({ where: { platform_externalId: { platform, externalId } } });

  it('starts the login with it; nothing is linked before the phone is proven', async () => {
    const phone = newPhone(platform);
    const customer = await createCustomer(world().ctx.prisma, { phone });
    const p = make(world(), { firstName: 'Typist' });
    await p.start();
    const typed = `8 (${phone.slice(2, 5)}) ${phone.slice(5, 8)}-${phone.slice(8, 10)}-${phone.slice(10)}`;
    await p.say(typed);
    expect(p.lastText()).not.toContain(ru()('menu.free_text'));
    expect((await identity(p.externalId)).customerId).toBeNull();
    if (platform === 'vk') {
      expect(p.lastText()).toContain('Отправили код');
      const code = world().sms.lastCodeFor(normalizePhone(phone));
      expect(code).toBeDefined();
      await p.say(code!);
      expect((await identity(p.externalId)).customerId).toBe(customer.id);
    } else {
      expect(p.lastText()).toBe(ru()('auth.prompt'));
    }
  });

  it('an order-like number is not taken for a phone', async () => {
    const p = make(world(), { firstName: 'Numbers' });
    await p.start();
    await p.say('100023');
    expect(p.lastText()).toContain(ru()('menu.free_text'));
  });
});
