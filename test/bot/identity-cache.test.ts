/**
 * The identity identify() keeps per chat between updates (read with the chat lock instead of
 * a PostgreSQL query per update): the bot's own changes show at once (login in a flow, logout,
 * language, blocked / unblocked), changes made elsewhere once the kept identity expires
 * (IDENTITY_CACHE_SECONDS, its Redis TTL).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { IDENTITY_CACHE_SECONDS, forgettingIdentity } from '../../src/bot/customer-bot.js';
import type { CustomerBotServices } from '../../src/bot/services.js';
import { menuCb, profileCb } from '../../src/bot/keyboards/index.js';
import { createCustomer } from '../support/factories.js';
import { TOKEN, person, useHarness } from './harness.js';

const login = menuCb.encode('login');

/**
 * Whether a promise hook runs in this process: on Node 20 an AsyncLocalStorage, once used, makes
 * every promise carry async ids (and pays a hook for each).
 */
const promiseHooksOn = () => Object.getOwnPropertySymbols(Promise.resolve()).some((s) => String(s) === 'Symbol(async_id_symbol)');

// Through the inbound queue first (production's path): nothing on it may switch on an
// AsyncLocalStorage. The direct path (the chat lock's own leases) runs after, in this process.
describe.each([
  ['through the inbound queue', true],
  ['handled before the webhook answers', false],
] as const)('the identity kept between updates (%s)', (_mode, queued) => {
  const harness = useHarness({ queued });
  if (queued) {
    afterAll(() => {
      // The queue's consumer, the brain's adopted claim, flows, logins, logouts: no promise hook.
      expect(promiseHooksOn()).toBe(false);
    });
  }
  it('shows the bot\'s own changes at once and others\' once it expires', async () => {
    const h = harness();
    const phone = '+79160000971';
    const customer = await createCustomer(h.ctx.prisma, { phone, firstName: 'Вера', language: 'ru' });
    const p = person(h, { firstName: 'Vera', languageCode: 'ru' });
    const kept = `${h.ctx.config.redisKeyPrefix}bot:telegram:${TOKEN.split(':')[0]}:who:${p.user.id}`;

    await p.say('/start');
    expect(p.lastButtons().map((b) => b.callback_data)).toContain(login);
    const ttl = await h.ctx.redis.ttl(kept);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(IDENTITY_CACHE_SECONDS);

    // Logged in by the contact flow: the very next update knows it.
    await p.press(login);
    await p.shareContact({ phone, firstName: 'Vera' });
    await p.say('/start');
    expect(p.lastText()).toContain('Личный кабинет');
    expect(p.lastButtons().map((b) => b.callback_data)).not.toContain(login);

    // The shop changes the customer's language: the kept identity still answers in Russian...
    await h.ctx.prisma.customer.update({ where: { id: customer.id }, data: { language: 'en' } });
    await p.say('/start');
    expect(p.lastText()).toContain('Личный кабинет');
    // ...until it expires (removed here as its TTL would): then PostgreSQL's answer, in English.
    await h.ctx.redis.del(kept);
    await p.say('/start');
    expect(p.lastText()).not.toContain('Личный кабинет');

    // A language chosen in the bot and a logout show at once.
    await p.say('/language');
    await p.press(profileCb.encode('language', { code: 'ru' }));
    await p.say('/start');
    expect(p.lastText()).toContain('Личный кабинет');
    await p.press(profileCb.encode('show'));
    await p.press(profileCb.encode('logout'));
    await p.press(profileCb.encode('logoutConfirm'));
    await p.say('/start');
    expect(p.lastButtons().map((b) => b.callback_data)).toContain(login);
  });

  it('a new name is written through at once; blocking and unblocking reach PostgreSQL despite a kept identity', async () => {
    const h = harness();
    const p = person(h, { firstName: 'Old', languageCode: 'ru' });
    const where = { platform_externalId: { platform: 'telegram' as const, externalId: String(p.user.id) } };
    await p.say('/start');
    await p.say('/start');
    expect((await h.ctx.prisma.channelIdentity.findUniqueOrThrow({ where })).firstName).toBe('Old');

    // The same person under a new name: not what was kept, so PostgreSQL is asked and updated.
    p.user.first_name = 'New';
    await p.say('/start');
    expect((await h.ctx.prisma.channelIdentity.findUniqueOrThrow({ where })).firstName).toBe('New');

    h.fake.blockBot(TOKEN, p.user.id);
    await h.settle();
    expect((await h.ctx.prisma.channelIdentity.findUniqueOrThrow({ where })).blockedAt).not.toBeNull();
    h.fake.unblockBot(TOKEN, p.user.id);
    await h.settle();
    expect((await h.ctx.prisma.channelIdentity.findUniqueOrThrow({ where })).blockedAt).toBeNull();
  });
});

describe('dropping the kept identity around identities calls', () => {
  // A unit of the wrapper alone: the drill (`npm run drill:redis`) found a login committed in
  // PostgreSQL and then failing on the cache write (Redis down); the retry saw the account as
  // already linked and never asked for consent.
  const services = (calls: string[]) =>
    ({
      identities: {
        loginWithPhone: async () => (calls.push('loginWithPhone'), { created: true }),
        confirmOwner: async () => (calls.push('confirmOwner'), true),
        logout: async () => (calls.push('logout'), undefined),
        setLanguage: async () => (calls.push('setLanguage'), undefined),
        markBlocked: async () => (calls.push('markBlocked'), undefined),
      },
    }) as unknown as CustomerBotServices;

  it('drops it before the call, so a failing drop leaves nothing committed for the retry', async () => {
    const calls: string[] = [];
    const down = forgettingIdentity(services(calls), async () => {
      calls.push('forget');
      throw new Error('Connection is closed.');
    });
    const identities = down.identities as unknown as Record<string, () => Promise<unknown>>;
    for (const name of ['loginWithPhone', 'confirmOwner', 'logout', 'setLanguage', 'markBlocked']) {
      await expect(identities[name]!()).rejects.toThrow('Connection is closed.');
    }
    expect(calls).toEqual(['forget', 'forget', 'forget', 'forget', 'forget']);

    const order: string[] = [];
    const up = forgettingIdentity(services(order), async (who) => void order.push(`forget ${JSON.stringify(who)}`));
    const upIdentities = up.identities as unknown as Record<string, (...args: string[]) => Promise<unknown>>;
    await expect(upIdentities.loginWithPhone!('id-1', '+79990000000')).resolves.toEqual({ created: true });
    // Each call names whose kept identity to drop: by id, or by the messenger account.
    await upIdentities.setLanguage!('id-2', 'en');
    await upIdentities.markBlocked!('telegram', '42');
    expect(order).toEqual(['forget {"identityId":"id-1"}', 'loginWithPhone', 'forget {"identityId":"id-2"}', 'setLanguage', 'forget {"platform":"telegram","externalId":"42"}', 'markBlocked']);
  });
});
