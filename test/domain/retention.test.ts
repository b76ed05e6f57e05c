import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneExpiredRecords } from '../../src/domain/retention.js';
import { fixedClock } from '../../src/infra/clock.js';
import { createTestContext, type TestContext } from '../support/context.js';

const DAY = 86_400_000;
const clock = fixedClock(new Date('2026-06-01T00:00:00Z'));
let ctx: TestContext;
beforeAll(async () => { ctx = await createTestContext({ clock }); });
afterAll(async () => { await ctx?.close(); });

const ago = (days: number) => new Date(clock.now().getTime() - days * DAY);

describe('retention', () => {
  it('deletes only what is past its retention, and a second run deletes nothing', async () => {
    const p = ctx.prisma;
    await p.processedEvent.createMany({ data: [
      { source: 'shop', eventId: 'old', processedAt: ago(31) },
      { source: 'shop', eventId: 'recent', processedAt: ago(29) },
    ] });
    await p.outboxEvent.createMany({ data: [
      { eventType: 'customer.updated', payload: {}, status: 'delivered', deliveredAt: ago(31) },
      { eventType: 'customer.updated', payload: {}, status: 'delivered', deliveredAt: ago(2) },
      // Dead and pending rows wait for a person or a retry, however old.
      { eventType: 'customer.updated', payload: {}, status: 'dead', createdAt: ago(400) },
      { eventType: 'customer.updated', payload: {}, status: 'pending', createdAt: ago(400) },
    ] });
    const customer = await p.customer.create({ data: { phone: '+79160009901' } });
    const identity = await p.channelIdentity.create({ data: { platform: 'vk', externalId: '9901', chatId: '9901', customerId: customer.id } });
    await p.otpCode.createMany({ data: [
      { phone: customer.phone, identityId: identity.id, codeHash: 'x', channel: 'sms', expiresAt: ago(2), createdAt: ago(2) },
      { phone: customer.phone, identityId: identity.id, codeHash: 'y', channel: 'sms', expiresAt: new Date(clock.now().getTime() + 60_000), createdAt: clock.now() },
    ] });
    const other = await p.channelIdentity.create({ data: { platform: 'vk', externalId: '9902', chatId: '9902' } });
    await p.loginChallenge.createMany({ data: [
      { identityId: identity.id, customerId: customer.id, attempts: 3, expiresAt: ago(3), createdAt: ago(3) },
      { identityId: other.id, customerId: customer.id, attempts: 1, expiresAt: clock.now(), createdAt: ago(1) },
    ] });

    const first = await pruneExpiredRecords(p, clock);
    expect(first).toMatchObject({ processedEvents: 1, outbox: 1, otpCodes: 1, loginChallenges: 1 });
    expect((await p.loginChallenge.findMany()).map((c) => c.identityId)).toEqual([other.id]);
    expect((await p.processedEvent.findMany()).map((e) => e.eventId)).toEqual(['recent']);
    expect((await p.outboxEvent.findMany()).map((o) => o.status).sort()).toEqual(['dead', 'delivered', 'pending']);
    expect(await p.otpCode.count()).toBe(1);
    expect(await pruneExpiredRecords(p, clock)).toEqual({ processedEvents: 0, outbox: 0, notifications: 0, otpCodes: 0, loginChallenges: 0, importJobs: 0, alertFanouts: 0 });
  });
});
