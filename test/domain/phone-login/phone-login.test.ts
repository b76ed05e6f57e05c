/** The one-time code rules against real PostgreSQL and Redis, with a controllable clock. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentitiesService } from '../../../src/domain/customers/identities.js';
import { createPhoneLoginService, type CodeDelivery } from '../../../src/domain/phone-login/phone-login.service.js';
import { isDomainError } from '../../../src/errors.js';
import { fixedClock } from '../../../src/infra/clock.js';
import { createTestContext, type TestContext } from '../../support/context.js';
import { createCustomer } from '../../support/factories.js';

const clock = fixedClock(new Date('2026-03-01T10:00:00Z'));
let ctx: TestContext;
const sms: Array<{ to: string; code: string }> = [];
const messenger: Array<{ chatId: string; text: string }> = [];
let service: ReturnType<typeof createPhoneLoginService>;
let n = 0;

beforeAll(async () => {
  ctx = await createTestContext({ clock });
  const delivery: CodeDelivery = {
    sms: { kind: 'sms', send: async (m) => { sms.push(m); } },
    messenger: { send: async (to, text) => { messenger.push({ chatId: to.chatId, text }); } },
    text: ({ code }) => `code ${code}`,
  };
  service = createPhoneLoginService({
    prisma: ctx.prisma, redis: ctx.redis, clock, logger: ctx.logger, delivery, secret: 'test-otp-secret-0123456789', keyPrefix: ctx.config.redisKeyPrefix,
    identities: createIdentitiesService({ prisma: ctx.prisma, clock, resolveLanguage: (c) => ctx.translator.resolveLanguage(c) }),
  });
});
afterAll(async () => {
  await ctx?.close();
});

async function vkIdentity() {
  return ctx.prisma.channelIdentity.create({ data: { platform: 'vk', externalId: String(900_000 + ++n), chatId: String(900_000 + n) } });
}
async function refusal(p: Promise<unknown>): Promise<{ code: string; reason: unknown; details: Record<string, unknown> }> {
  const err = await p.then(() => { throw new Error('expected a refusal'); }, (e: unknown) => e);
  if (!isDomainError(err)) throw err;
  return { code: err.code, reason: err.details?.reason, details: err.details ?? {} };
}
const lastSms = () => sms.at(-1)!.code;

describe('phone login by one-time code', () => {
  it('stores only a hash, and a correct code links the identity to the customer with that phone', async () => {
    const customer = await createCustomer(ctx.prisma, { phone: '+79167770001' });
    const identity = await vkIdentity();
    const sent = await service.requestCode(identity.id, '8 (916) 777-00-01', 'ru');
    expect(sent).toEqual({ maskedPhone: '+7********01', expiresInSeconds: 300, resendInSeconds: 60 });
    expect(sms.at(-1)!.to).toBe('+79167770001');
    const code = lastSms();
    const row = await ctx.prisma.otpCode.findFirstOrThrow({ where: { identityId: identity.id } });
    expect(row.codeHash).not.toContain(code);
    expect(row.phone).toBe('+79167770001');
    const result = await service.verifyCode(identity.id, code);
    expect(result.customerId).toBe(customer.id);
    expect((await ctx.prisma.channelIdentity.findUniqueOrThrow({ where: { id: identity.id } })).customerId).toBe(customer.id);
    // A used code cannot be used again.
    expect(await refusal(service.verifyCode(identity.id, code))).toMatchObject({ reason: 'no_code' });
  });

  it('a successful login lifts the resend cooldown (log out and back in at once), the hourly limits still count', async () => {
    await createCustomer(ctx.prisma, { phone: '+79167770009' });
    const identity = await vkIdentity();
    await service.requestCode(identity.id, '+79167770009', 'ru');
    await service.verifyCode(identity.id, lastSms());
    const again = await service.requestCode(identity.id, '+79167770009', 'ru');
    expect(again.maskedPhone).toBe('+7********09');
    expect(sms.at(-1)!.to).toBe('+79167770009');
    expect(Number(await ctx.redis.get(`${ctx.config.redisKeyPrefix}otp:identity:${identity.id}`))).toBe(2);
  });

  it('refuses an expired code and changes nothing', async () => {
    const identity = await vkIdentity();
    await service.requestCode(identity.id, '+79167770002', 'ru');
    clock.advance(5 * 60_000 + 1);
    expect(await refusal(service.verifyCode(identity.id, lastSms()))).toMatchObject({ code: 'invalid_input', reason: 'expired' });
    expect((await ctx.prisma.channelIdentity.findUniqueOrThrow({ where: { id: identity.id } })).customerId).toBeNull();
  });

  it('allows 5 attempts per code; a non-code text does not count', async () => {
    const identity = await vkIdentity();
    await service.requestCode(identity.id, '+79167770003', 'ru');
    const code = lastSms();
    const wrong = code === '123456' ? '654321' : '123456';
    expect(await refusal(service.verifyCode(identity.id, 'hello'))).toMatchObject({ reason: 'bad_format' });
    for (let left = 4; left >= 1; left--) expect(await refusal(service.verifyCode(identity.id, wrong))).toMatchObject({ reason: 'wrong_code', details: { attemptsLeft: left } });
    expect(await refusal(service.verifyCode(identity.id, wrong))).toMatchObject({ code: 'rate_limited', reason: 'too_many_attempts' });
    expect(await refusal(service.verifyCode(identity.id, code))).toMatchObject({ reason: 'too_many_attempts' });
    expect((await ctx.prisma.otpCode.findFirstOrThrow({ where: { identityId: identity.id } })).attempts).toBe(5);
  });

  it('enforces the resend cooldown, and hourly limits per phone and per identity; a refused request sends and stores nothing', async () => {
    const identity = await vkIdentity();
    await service.requestCode(identity.id, '+79167770004', 'ru');
    const before = { sms: sms.length, rows: await ctx.prisma.otpCode.count() };
    expect(await refusal(service.requestCode(identity.id, '+79167770004', 'ru'))).toMatchObject({ code: 'rate_limited', reason: 'cooldown' });
    expect({ sms: sms.length, rows: await ctx.prisma.otpCode.count() }).toEqual(before);

    // Per phone: many VK accounts pumping one number stop at 10 an hour; one account at 5.
    const phone = '+79167770005';
    for (let i = 0; i < 10; i++) await service.requestCode((await vkIdentity()).id, phone, 'ru');
    expect(await refusal(service.requestCode((await vkIdentity()).id, phone, 'ru'))).toMatchObject({ reason: 'phone_limit' });
    const one = await vkIdentity();
    for (let i = 0; i < 5; i++) {
      await service.requestCode(one.id, '+79167770006', 'ru');
      await ctx.redis.del(`${ctx.config.redisKeyPrefix}otp:cooldown:${one.id}:+79167770006`);
    }
    expect(await refusal(service.requestCode(one.id, '+79167770006', 'ru'))).toMatchObject({ reason: 'phone_limit' });

    // Per identity: one account cycling numbers stops at 10 an hour.
    const cycler = await vkIdentity();
    for (let i = 0; i < 10; i++) {
      // Another number is not held by the first one's cooldown (a mistyped number is fixed at once).
      await service.requestCode(cycler.id, `+7916777${String(1000 + i).slice(-4)}`, 'ru');
    }
    expect(await refusal(service.requestCode(cycler.id, '+79167778888', 'ru'))).toMatchObject({ reason: 'identity_limit' });
    expect(await refusal(service.requestCode(cycler.id, 'not a phone', 'ru'))).toMatchObject({ code: 'invalid_input' });
  });

  it('sends the code to the customer\'s Telegram chat instead of SMS when they use Telegram', async () => {
    const customer = await createCustomer(ctx.prisma, { phone: '+79167770099' });
    await ctx.prisma.channelIdentity.create({ data: { platform: 'telegram', externalId: '5550099', chatId: '5550099', customerId: customer.id, lastSeenAt: clock.now() } });
    const identity = await vkIdentity();
    const smsBefore = sms.length;
    const sent = await service.requestCode(identity.id, '+79167770099', 'ru');
    // Where the code went is not in the answer: the same words for every phone.
    expect(sent).toEqual({ maskedPhone: '+7********99', expiresInSeconds: 300, resendInSeconds: 60 });
    expect(sms.length).toBe(smsBefore);
    const code = /code (\d{6})/.exec(messenger.at(-1)!.text)![1]!;
    expect(messenger.at(-1)!.chatId).toBe('5550099');
    expect((await service.verifyCode(identity.id, code)).customerId).toBe(customer.id);
  });

  it('the hourly ceiling degrades: a flood of fresh accounts exhausts its own age band, not older newcomers nor known accounts', async () => {
    const capped = createPhoneLoginService({
      prisma: ctx.prisma, redis: ctx.redis, clock, logger: ctx.logger,
      delivery: { sms: { kind: 'sms', send: async (m) => { sms.push(m); } }, text: ({ code }) => `code ${code}` },
      secret: 'test-otp-secret-0123456789', keyPrefix: `${ctx.config.redisKeyPrefix}capped:`, limits: { globalPerHour: 8 },
      identities: createIdentitiesService({ prisma: ctx.prisma, clock, resolveLanguage: (c) => ctx.translator.resolveLanguage(c) }),
    });
    let fresh = 0;
    const vkUser = (id: number, createdAt = clock.now()) => ctx.prisma.channelIdentity.create({ data: { platform: 'vk', externalId: String(id), chatId: String(id), createdAt } });
    const before = sms.length;
    // Throwaway accounts just registered (ids of the newest band): 8 / 4 = 2 codes an hour for the band.
    for (let i = 0; i < 2; i++) await capped.requestCode((await vkUser(1_050_000_000 + ++fresh)).id, `+7916556000${i}`, 'ru');
    const refused = await refusal(capped.requestCode((await vkUser(1_050_000_000 + ++fresh)).id, '+79165560009', 'ru'));
    expect(refused).toMatchObject({ code: 'rate_limited', reason: 'global_limit' });
    expect(Number(refused.details.retryAfterSeconds)).toBeGreaterThan(0);
    expect(sms.length - before).toBe(2);
    // A newcomer with an old VK account still gets a code; so does an account we have known for long.
    await capped.requestCode((await vkUser(12_345)).id, '+79165560011', 'ru');
    await capped.requestCode((await vkUser(1_050_900_000, new Date(clock.now().getTime() - 60 * 86_400_000))).id, '+79165560012', 'ru');
    expect(sms.length - before).toBe(4);
    // Newcomers of every band together stop at the ceiling; known accounts have their own.
    for (let band = 2; band < 9; band++) await capped.requestCode((await vkUser(band * 100_000_000 + 7)).id, `+791655601${band}0`, 'ru').catch(() => undefined);
    expect(await refusal(capped.requestCode((await vkUser(9 * 100_000_000 + 7)).id, '+79165560190', 'ru'))).toMatchObject({ reason: 'global_limit' });
    await capped.requestCode((await vkUser(1_050_900_001, new Date(clock.now().getTime() - 60 * 86_400_000))).id, '+79165560013', 'ru');
  });

  it("strangers cannot lock the owner out: throwaway accounts are refused, the owner's account still gets and uses a code", async () => {
    const phone = '+79167770200';
    const customer = await createCustomer(ctx.prisma, { phone });
    const owner = await vkIdentity();
    await service.requestCode(owner.id, phone, 'ru');
    await service.verifyCode(owner.id, lastSms());
    await ctx.prisma.channelIdentity.update({ where: { id: owner.id }, data: { customerId: null, linkedAt: null } }); // logged out
    // The owner's own first request counted as a stranger's (it had not logged in yet): 9 left.
    for (let i = 0; i < 9; i++) await service.requestCode((await vkIdentity()).id, phone, 'ru');
    expect(await refusal(service.requestCode((await vkIdentity()).id, phone, 'ru'))).toMatchObject({ code: 'rate_limited', reason: 'phone_limit' });
    await ctx.redis.del(`${ctx.config.redisKeyPrefix}otp:cooldown:${owner.id}:${phone}`);
    await service.requestCode(owner.id, phone, 'ru');
    expect(sms.at(-1)!.to).toBe(phone);
    expect((await service.verifyCode(owner.id, lastSms())).customerId).toBe(customer.id);
  });
});
