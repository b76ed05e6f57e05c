/**
 * Login by a one-time code, for channels that cannot vouch for a phone (VK). The person
 * types a phone; a 6-digit code goes to the customer's Telegram chat when the customer with
 * that phone already uses Telegram, else by SMS; typing it back links the identity to that
 * customer (or a new one), so both messengers share one account.
 *
 * Against guessing and SMS pumping: codes are random (crypto.randomInt), stored only as an
 * HMAC bound to identity and phone, expire (5 min), allow 5 attempts, and only the newest
 * code of an identity counts; requests have a resend cooldown (60 s) and hourly limits,
 * checked and counted atomically in Redis. A refused request sends nothing and stores
 * nothing; a refused code logs nobody in.
 *
 * The limits are arranged so that strangers cannot lock the owner out:
 * - per requesting account (all its requests) and per account and phone — one account's
 *   own budget;
 * - per phone for strangers: accounts that never logged into the customer with that phone
 *   share one hourly budget (it caps SMS bombing of a number through many accounts); the
 *   owner's accounts (logged in with that phone before) are not counted against it nor
 *   stopped by it;
 * - the global ceiling (OTP_GLOBAL_PER_HOUR, the cap on what pumping can cost) degrades
 *   instead of shutting every login: accounts that are known (logged in before, or first
 *   seen by us OTP_KNOWN_AFTER_DAYS ago) have a ceiling of their own; newcomers share
 *   another, and within it each account-age band (VK ids are issued in order, so a band of
 *   100 million ids is an era of registrations) may take only a quarter — a flood of fresh
 *   throwaway accounts exhausts its own band, not everyone's logins.
 * The reply is the same whoever owns the phone: where the code went (Telegram chat or SMS)
 * is not told, so a stranger learns nothing about the number.
 */
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { DomainError } from '../../errors.js';
import type { Clock } from '../../infra/clock.js';
import { maskPhone, type Logger } from '../../infra/logger.js';
import type { PrismaClient } from '../../infra/prisma.js';
import type { Redis } from '../../infra/redis.js';
import type { Platform } from '../../generated/prisma/enums.js';
import type { IdentitiesService, LoginResult } from '../customers/identities.js';
import { normalizePhone } from '../customers/phone.js';

export interface OtpLimits {
  ttlSeconds: number;
  maxAttempts: number;
  resendCooldownSeconds: number;
  perPhonePerHour: number;
  perIdentityPerHour: number;
  /** Codes per hour to one phone requested by accounts that never logged in with it. */
  perPhoneStrangersPerHour: number;
  /**
   * Codes per hour for known accounts, and (separately) for newcomers: the ceiling on what
   * SMS pumping through many accounts and many numbers can cost the shop. 0 = no ceiling.
   */
  globalPerHour: number;
  /** An account first seen this many days ago counts as known for the global ceiling. */
  knownAfterDays: number;
}

export const DEFAULT_OTP_LIMITS: OtpLimits = {
  ttlSeconds: 300, maxAttempts: 5, resendCooldownSeconds: 60, perPhonePerHour: 5, perIdentityPerHour: 10, perPhoneStrangersPerHour: 10, globalPerHour: 1000, knownAfterDays: 30,
};

/** Share of the newcomers' ceiling one account-age band may take. */
const BAND_SHARE = 4;
/** VK user ids per account-age band. */
const VK_BAND_IDS = 100_000_000;

/** How a code reaches the person. Plain interfaces: the edges plug in SMS and messengers. */
export interface CodeDelivery {
  sms: { readonly kind: string; send(message: { to: string; text: string; code: string }): Promise<void> };
  /** Writes to one of the customer's messenger chats (the Telegram OutboundSender). */
  messenger?: { send(to: { platform: Platform; chatId: string }, text: string): Promise<void> };
  /** The message text, in the person's language. */
  text(input: { code: string; language: string; via: 'sms' | 'messenger'; ttlMinutes: number }): string;
}

export interface PhoneLoginDeps {
  prisma: PrismaClient;
  redis: Redis;
  clock: Clock;
  logger: Logger;
  identities: IdentitiesService;
  delivery: CodeDelivery;
  /** HMAC key (OTP_SECRET). */
  secret: string;
  /** Kabinet's Redis key prefix. */
  keyPrefix: string;
  limits?: Partial<OtpLimits>;
}

/** What the flow shows after a code went out; serializable (conversation.external). */
export interface CodeSent {
  /** "+7*******67" */
  maskedPhone: string;
  expiresInSeconds: number;
  resendInSeconds: number;
}

/** Stable reasons in DomainError.details.reason, for the edge's localized answer. */
export type OtpRefusal = 'cooldown' | 'phone_limit' | 'identity_limit' | 'global_limit' | 'no_code' | 'expired' | 'too_many_attempts' | 'wrong_code' | 'bad_format' | 'send_failed';

const refuse = (code: 'invalid_input' | 'rate_limited' | 'not_found' | 'unavailable', reason: OtpRefusal, extra: Record<string, unknown> = {}) =>
  new DomainError(code, `One-time code refused: ${reason}`, { reason, ...extra });

// KEYS[1]: the cooldown; KEYS[2..n]: hourly counters.
// ARGV[1]: cooldown seconds, ARGV[2]: window seconds, then per counter: its max and its refusal.
// Checks every limit first and counts only when all pass, so a refused request changes nothing.
const TAKE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return {'cooldown', redis.call('TTL', KEYS[1])} end
for i = 2, #KEYS do
  local max = tonumber(ARGV[1 + (i - 1) * 2])
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= max then return {ARGV[2 + (i - 1) * 2], redis.call('TTL', KEYS[i])} end
end
for i = 2, #KEYS do
  if redis.call('INCR', KEYS[i]) == 1 then redis.call('EXPIRE', KEYS[i], ARGV[2]) end
end
if tonumber(ARGV[1]) > 0 then redis.call('SET', KEYS[1], '1', 'EX', ARGV[1]) end
return {'ok', 0}
`;

interface Counter {
  key: string;
  max: number;
  refusal: OtpRefusal;
}

export function createPhoneLoginService(deps: PhoneLoginDeps) {
  const limits: OtpLimits = { ...DEFAULT_OTP_LIMITS, ...deps.limits };
  const { prisma, redis, clock } = deps;
  const key = (part: string) => `${deps.keyPrefix}otp:${part}`;

  const hash = (identityId: string, phone: string, code: string) =>
    createHmac('sha256', deps.secret).update(`${identityId}:${phone}:${code}`).digest('hex');

  /** The customer's Telegram chat, if the phone belongs to a customer who uses Telegram. */
  async function messengerRoute(phone: string, requesterId: string): Promise<{ platform: Platform; chatId: string } | undefined> {
    if (!deps.delivery.messenger) return undefined;
    const identity = await prisma.channelIdentity.findFirst({
      where: { customer: { phone }, platform: 'telegram', blockedAt: null, id: { not: requesterId } },
      orderBy: { lastSeenAt: 'desc' },
      select: { platform: true, chatId: true },
    });
    return identity ?? undefined;
  }

  /**
   * Who is asking, for the limits: the owner of this phone (an account that logged into the
   * customer with it before, or is linked to it), a known account, or a newcomer of an
   * account-age band.
   */
  async function requester(identityId: string, phone: string): Promise<{ owner: boolean; known: boolean; band: string }> {
    const identity = await prisma.channelIdentity.findUnique({
      where: { id: identityId },
      select: { platform: true, externalId: true, customerId: true, linkedAt: true, createdAt: true, customer: { select: { phone: true } }, _count: { select: { logins: true } } },
    });
    if (!identity) throw new DomainError('not_found', 'Identity not found');
    const owner =
      identity.customer?.phone === phone ||
      (await prisma.customerLogin.count({ where: { identityId, customer: { phone } } })) > 0;
    const known = owner || identity._count.logins > 0 || identity.linkedAt !== null || clock.now().getTime() - identity.createdAt.getTime() >= limits.knownAfterDays * 86_400_000;
    const vkId = identity.platform === 'vk' ? Number(identity.externalId) : NaN;
    const band = Number.isSafeInteger(vkId) && vkId > 0 ? `vk${Math.floor(vkId / VK_BAND_IDS)}` : identity.platform;
    return { owner, known, band };
  }

  function counters(identityId: string, phone: string, who: { owner: boolean; known: boolean; band: string }): Counter[] {
    const list: Counter[] = [
      { key: key(`identity:${identityId}`), max: limits.perIdentityPerHour, refusal: 'identity_limit' },
      { key: key(`phone:${phone}:from:${identityId}`), max: limits.perPhonePerHour, refusal: 'phone_limit' },
    ];
    if (!who.owner) list.push({ key: key(`phone:${phone}:strangers`), max: limits.perPhoneStrangersPerHour, refusal: 'phone_limit' });
    if (limits.globalPerHour > 0) {
      if (who.known) list.push({ key: key('global:known'), max: limits.globalPerHour, refusal: 'global_limit' });
      else {
        list.push({ key: key('global:new'), max: limits.globalPerHour, refusal: 'global_limit' });
        list.push({ key: key(`global:new:${who.band}`), max: Math.max(1, Math.ceil(limits.globalPerHour / BAND_SHARE)), refusal: 'global_limit' });
      }
    }
    return list;
  }

  return {
    limits,

    /**
     * Sends a fresh code for `rawPhone` to the person behind `identityId`. Throws
     * invalid_input (not a phone), rate_limited (cooldown / hourly limits, with
     * retryAfterSeconds), unavailable (the sender failed).
     */
    async requestCode(identityId: string, rawPhone: string, language: string): Promise<CodeSent> {
      const phone = normalizePhone(rawPhone);
      const who = await requester(identityId, phone);
      const list = counters(identityId, phone, who);
      // The cooldown paces resends of one number's code; a person who mistyped the number may
      // ask for another at once (the hourly limits per account still bound SMS pumping).
      const [verdict, ttl] = (await redis.eval(
        TAKE,
        1 + list.length,
        key(`cooldown:${identityId}:${phone}`),
        ...list.map((c) => c.key),
        limits.resendCooldownSeconds,
        3600,
        ...list.flatMap((c) => [c.max, c.refusal]),
      )) as [string, number];
      if (verdict === 'global_limit') deps.logger.warn({ limit: limits.globalPerHour, known: who.known, band: who.band }, 'otp: hourly ceiling of a requester class reached (SMS pumping?)');
      if (verdict !== 'ok') {
        deps.logger.info({ identityId, phone: maskPhone(phone), reason: verdict, owner: who.owner }, 'otp: code request refused');
        throw refuse('rate_limited', verdict as OtpRefusal, { retryAfterSeconds: Math.max(1, Number(ttl)) });
      }
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      const now = clock.now();
      const route = await messengerRoute(phone, identityId);
      const via = route ? 'telegram' : deps.delivery.sms.kind;
      const ttlMinutes = Math.round(limits.ttlSeconds / 60);
      // Older codes of this identity stop working: only the newest one counts.
      await prisma.$transaction([
        prisma.otpCode.updateMany({ where: { identityId, consumedAt: null, expiresAt: { gt: now } }, data: { expiresAt: now } }),
        prisma.otpCode.create({
          data: { identityId, phone, codeHash: hash(identityId, phone, code), channel: via, expiresAt: new Date(now.getTime() + limits.ttlSeconds * 1000) },
        }),
      ]);
      try {
        if (route) {
          await deps.delivery.messenger!.send(route, deps.delivery.text({ code, language, via: 'messenger', ttlMinutes }));
        } else {
          await deps.delivery.sms.send({ to: phone, code, text: deps.delivery.text({ code, language, via: 'sms', ttlMinutes }) });
        }
      } catch (err) {
        // Nothing went out: let the person retry at once.
        await redis.del(key(`cooldown:${identityId}:${phone}`)).catch(() => undefined);
        deps.logger.warn({ err: { message: err instanceof Error ? err.message : String(err) }, identityId, via }, 'otp: sending the code failed');
        throw refuse('unavailable', 'send_failed');
      }
      deps.logger.info({ identityId, phone: maskPhone(phone), via }, 'otp: code sent');
      return { maskedPhone: maskPhone(phone), expiresInSeconds: limits.ttlSeconds, resendInSeconds: limits.resendCooldownSeconds };
    },

    /**
     * Checks a typed code against the identity's newest code and, when it matches, logs the
     * identity in with that phone (joining the customer who has it). Throws invalid_input
     * (bad_format, wrong_code with attemptsLeft, expired), not_found (no_code),
     * rate_limited (too_many_attempts).
     */
    async verifyCode(identityId: string, rawCode: string): Promise<LoginResult & { phone: string }> {
      const typed = rawCode.replace(/[\s-]/g, '');
      if (!/^\d{6}$/.test(typed)) throw refuse('invalid_input', 'bad_format');
      const now = clock.now();
      const row = await prisma.otpCode.findFirst({ where: { identityId, consumedAt: null }, orderBy: { createdAt: 'desc' } });
      if (!row) throw refuse('not_found', 'no_code');
      if (row.expiresAt <= now) throw refuse('invalid_input', 'expired');
      // Count the attempt first, atomically: parallel guesses cannot exceed the limit.
      const counted = await prisma.otpCode.updateMany({
        where: { id: row.id, consumedAt: null, attempts: { lt: limits.maxAttempts } },
        data: { attempts: { increment: 1 } },
      });
      if (counted.count === 0) throw refuse('rate_limited', 'too_many_attempts');
      const expected = Buffer.from(row.codeHash, 'hex');
      const given = Buffer.from(hash(identityId, row.phone, typed), 'hex');
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
        const attemptsLeft = limits.maxAttempts - (row.attempts + 1);
        if (attemptsLeft <= 0) throw refuse('rate_limited', 'too_many_attempts');
        throw refuse('invalid_input', 'wrong_code', { attemptsLeft });
      }
      const consumed = await prisma.otpCode.updateMany({ where: { id: row.id, consumedAt: null }, data: { consumedAt: now } });
      if (consumed.count === 0) throw refuse('not_found', 'no_code');
      // The cooldown paces resends of a pending code; none is pending now. A person who logs
      // out and back in may ask at once (the hourly limits still bound SMS pumping).
      await redis.del(key(`cooldown:${identityId}:${row.phone}`)).catch(() => undefined);
      const identity = await prisma.channelIdentity.findUnique({ where: { id: identityId }, select: { firstName: true, lastName: true } });
      const result = await deps.identities.loginWithPhone(identityId, row.phone, { firstName: identity?.firstName ?? undefined, lastName: identity?.lastName ?? undefined }, 'code');
      deps.logger.info({ identityId, customerId: result.customerId }, 'otp: identity logged in by code');
      return { ...result, phone: row.phone };
    },
  };
}

export type PhoneLoginService = ReturnType<typeof createPhoneLoginService>;
