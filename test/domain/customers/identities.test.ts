/** touch() runs on every update: it writes only when the account changed or was seen over a minute ago. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentitiesService, TOUCH_INTERVAL_MS } from '../../../src/domain/customers/identities.js';
import { fixedClock } from '../../../src/infra/clock.js';
import { createTestContext, type TestContext } from '../../support/context.js';
import { createCustomer } from '../../support/factories.js';

const clock = fixedClock(new Date('2026-03-01T10:00:00Z'));
let ctx: TestContext;
let identities: ReturnType<typeof createIdentitiesService>;

beforeAll(async () => {
  ctx = await createTestContext({ clock });
  identities = createIdentitiesService({ prisma: ctx.prisma, clock, resolveLanguage: (c) => ctx.translator.resolveLanguage(c) });
});
afterAll(async () => {
  await ctx?.close();
});

describe('identities.touch', () => {
  it('creates at first contact, then writes only on a change, an unblock or a stale lastSeenAt', async () => {
    const user = { platform: 'telegram' as const, externalId: '7770001', chatId: '7770001', firstName: 'Ivan', languageCode: 'en-US' };
    const first = await identities.touch(user);
    expect(first).toMatchObject({ externalId: '7770001', customerId: null, language: 'en' });
    const row = () => ctx.prisma.channelIdentity.findUniqueOrThrow({ where: { id: first.identityId } });
    const created = await row();

    clock.advance(TOUCH_INTERVAL_MS / 2);
    expect(await identities.touch(user)).toEqual(first);
    expect((await row()).updatedAt).toEqual(created.updatedAt);

    await identities.touch({ ...user, username: 'ivan' });
    expect(await row()).toMatchObject({ username: 'ivan', lastSeenAt: clock.now() });

    await identities.markBlocked('telegram', '7770001');
    await identities.touch({ ...user, username: 'ivan' });
    expect((await row()).blockedAt).toBeNull();

    clock.advance(TOUCH_INTERVAL_MS + 1);
    await identities.touch({ ...user, username: 'ivan' });
    expect((await row()).lastSeenAt).toEqual(clock.now());
  });

  it('two first contacts of one person at once (two processes) make one identity, and both see it', async () => {
    const user = { platform: 'vk' as const, externalId: '7770003', chatId: '7770003', firstName: "O'Brien; DROP", lastName: 'Ёлкина', languageCode: 'ru' };
    const [a, b] = await Promise.all([identities.touch(user), identities.touch({ ...user, username: 'o_b' })]);
    expect(a.identityId).toBe(b.identityId);
    const rows = await ctx.prisma.channelIdentity.findMany({ where: { platform: 'vk', externalId: '7770003' } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ chatId: '7770003', firstName: "O'Brien; DROP", lastName: 'Ёлкина', languageCode: 'ru', lastSeenAt: clock.now() });
    expect(rows[0]!.createdAt).toBeInstanceOf(Date);
  });

  it('reads and writes its times as UTC whatever the process time zone (as Prisma does)', async () => {
    const zone = process.env.TZ;
    process.env.TZ = 'Asia/Vladivostok'; // UTC+10: local time would move every time by ten hours
    try {
      const user = { platform: 'telegram' as const, externalId: '7770004', chatId: '7770004', firstName: 'Zoe' };
      const { identityId } = await identities.touch(user);
      const row = await ctx.prisma.channelIdentity.findUniqueOrThrow({ where: { id: identityId } });
      expect(row.lastSeenAt).toEqual(clock.now());
      expect(row.updatedAt).toEqual(clock.now());
      // Read back through the plain path, seen a moment later: no write, because the time read is the one written.
      clock.advance(1000);
      await identities.touch(user);
      expect((await ctx.prisma.channelIdentity.findUniqueOrThrow({ where: { id: identityId } })).updatedAt).toEqual(row.updatedAt);
      // Seen after the interval: written again, at the new now.
      clock.advance(TOUCH_INTERVAL_MS);
      await identities.touch(user);
      expect((await ctx.prisma.channelIdentity.findUniqueOrThrow({ where: { id: identityId } })).lastSeenAt).toEqual(clock.now());
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });

  it("answers in the linked customer's language", async () => {
    const customer = await createCustomer(ctx.prisma, { phone: '+79160007702', language: 'ru' });
    const user = { platform: 'telegram' as const, externalId: '7770002', chatId: '7770002', languageCode: 'en' };
    const { identityId } = await identities.touch(user);
    await ctx.prisma.channelIdentity.update({ where: { id: identityId }, data: { customerId: customer.id } });
    expect(await identities.touch(user)).toMatchObject({ identityId, customerId: customer.id, language: 'ru' });
  });
});
