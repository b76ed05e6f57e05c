/** The recycled-number rule of IdentitiesService against real PostgreSQL, with a controllable clock. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentitiesService, OWNER_CHECK_TTL_MS } from '../../../src/domain/customers/identities.js';
import { isDomainError } from '../../../src/errors.js';
import { fixedClock } from '../../../src/infra/clock.js';
import { createTestContext, type TestContext } from '../../support/context.js';
import { createCustomer } from '../../support/factories.js';

const DAY = 86_400_000;
const clock = fixedClock(new Date('2026-09-01T10:00:00Z'));
let ctx: TestContext;
let identities: ReturnType<typeof createIdentitiesService>;
let n = 0;

beforeAll(async () => {
  ctx = await createTestContext({ clock });
  identities = createIdentitiesService({ prisma: ctx.prisma, clock, resolveLanguage: () => 'ru', dormantAfterDays: 180 });
});
afterAll(async () => {
  await ctx?.close();
});

const account = () => ctx.prisma.channelIdentity.create({ data: { platform: 'telegram', externalId: String(70_000 + ++n), chatId: String(70_000 + n) } });
async function refusal(p: Promise<unknown>) {
  const err = await p.then(() => { throw new Error('expected a refusal'); }, (e: unknown) => e);
  if (!isDomainError(err)) throw err;
  return { code: err.code, ...err.details };
}

describe('recycled numbers (IdentitiesService)', () => {
  it('holds a new account back only when the customer has been dormant, and remembers known accounts', async () => {
    const customer = await createCustomer(ctx.prisma, { phone: '+79160003301', email: 'a@example.com' });
    const first = await account();
    expect((await identities.loginWithPhone(first.id, '79160003301')).customerId).toBe(customer.id);
    // 100 days later a second account: not dormant yet.
    clock.advance(100 * DAY);
    const second = await account();
    expect((await identities.loginWithPhone(second.id, '79160003301')).customerId).toBe(customer.id);
    // Both log out; 200 days later the first comes back (known), a third is held.
    await identities.logout(first.id);
    await identities.logout(second.id);
    clock.advance(200 * DAY);
    expect((await identities.loginWithPhone(first.id, '79160003301')).customerId).toBe(customer.id);
    await identities.logout(first.id);
    clock.advance(200 * DAY);
    const third = await account();
    expect(await refusal(identities.loginWithPhone(third.id, '79160003301', {}, 'code'))).toMatchObject({ code: 'forbidden', reason: 'confirm_owner', answerable: true });
    expect((await ctx.prisma.channelIdentity.findUniqueOrThrow({ where: { id: third.id } })).customerId).toBeNull();
  });

  it('answers only inside an open check, counts wrong answers per account and per customer, and expires', async () => {
    const customer = await createCustomer(ctx.prisma, { phone: '+79160003302', email: 'owner@example.com' });
    const old = await account();
    await identities.loginWithPhone(old.id, '79160003302');
    await identities.logout(old.id);
    clock.advance(365 * DAY);

    // No check opened: an answer alone proves nothing.
    const stranger = await account();
    expect(await refusal(identities.confirmOwner(stranger.id, '+79160003302', 'owner@example.com'))).toMatchObject({ code: 'not_found', reason: 'no_check' });

    // Two accounts, three wrong answers each: the customer's six are spent, the right answer is refused too.
    const accounts = [await account(), await account(), await account()];
    for (const a of accounts) await refusal(identities.loginWithPhone(a.id, '79160003302'));
    for (const a of accounts.slice(0, 2)) {
      for (let i = 0; i < 3; i++) await refusal(identities.confirmOwner(a.id, '+79160003302', `wrong${i}@example.com`));
    }
    expect(await refusal(identities.confirmOwner(accounts[2]!.id, '+79160003302', 'owner@example.com'))).toMatchObject({ code: 'rate_limited', reason: 'too_many_attempts' });

    // A day later a fresh proof opens a fresh check; it expires unanswered.
    clock.advance(DAY + 1000);
    await refusal(identities.loginWithPhone(accounts[2]!.id, '79160003302'));
    clock.advance(OWNER_CHECK_TTL_MS + 1000);
    expect(await refusal(identities.confirmOwner(accounts[2]!.id, '+79160003302', 'owner@example.com'))).toMatchObject({ reason: 'no_check' });
    await refusal(identities.loginWithPhone(accounts[2]!.id, '79160003302'));
    expect((await identities.confirmOwner(accounts[2]!.id, '+79160003302', ' OWNER@example.com ')).customerId).toBe(customer.id);
  });
});
