import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';

describe('config', () => {
  it('works with no environment at all on this machine', () => {
    const c = loadConfig({});
    expect(c.databaseUrl).toBe('postgresql://postgres@127.0.0.1:5432/kabinet');
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(c.queuePrefix).toBe('{kabinet}');
    expect(c.sandbox).toBe(true);
    expect(c.telegram.rateLimitPerSecond).toBe(30);
    expect(c.loyalty.tiers.map((t) => t.code)).toEqual(['base', 'silver', 'gold']);
  });

  it('names every bad variable in one message', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://u:secret@h/db', TELEGRAM_BOT_TOKEN: 'nope', TELEGRAM_RATE_LIMIT: '0', LOG_LEVEL: 'loud' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain('PORT: expected a whole number');
    expect(message).toContain('DATABASE_URL: expected a postgres: or postgresql: URL');
    expect(message).toContain('TELEGRAM_BOT_TOKEN: does not look like a bot token');
    expect(message).toContain('TELEGRAM_RATE_LIMIT');
    expect(message).toContain('LOG_LEVEL');
    // Credentials in a bad URL are not echoed back.
    expect(message).not.toContain('secret');
  });

  it('requires settings that belong together', () => {
    expect(() => loadConfig({ TELEGRAM_WEBHOOK_URL: 'https://x.example/tg' })).toThrow(/TELEGRAM_WEBHOOK_SECRET: required/);
    expect(() => loadConfig({ VK_GROUP_TOKEN: 'vk1.a.token' })).toThrow(/VK_GROUP_ID, VK_CALLBACK_SECRET and VK_CONFIRMATION_CODE/);
    expect(() => loadConfig({ TELEGRAM_WEBHOOK_URL: 'https://x.example/tg', TELEGRAM_WEBHOOK_SECRET: 'has spaces' })).toThrow(/TELEGRAM_WEBHOOK_SECRET: must be/);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/SHOP_API_SECRET: required in production/);
  });

  it('takes two shop secrets while rotating, and webhook secrets falling back to the API ones', () => {
    const one = loadConfig({ SHOP_API_SECRET: 'shop-secret-one-0123' });
    expect(one.shop).toMatchObject({ apiSecret: 'shop-secret-one-0123', apiSecrets: ['shop-secret-one-0123'], webhookSecrets: ['shop-secret-one-0123'] });
    const rotating = loadConfig({ SHOP_API_SECRET: 'shop-secret-old-0123, shop-secret-new-0123', SHOP_WEBHOOK_SECRET: 'hook-secret-only-0123' });
    expect(rotating.shop).toMatchObject({ apiSecrets: ['shop-secret-old-0123', 'shop-secret-new-0123'], webhookSecrets: ['hook-secret-only-0123'] });
    expect(() => loadConfig({ SHOP_API_SECRET: 'a-long-enough-secret-1,a-long-enough-secret-2,a-long-enough-secret-3' })).toThrow(/SHOP_API_SECRET: at most two/);
    expect(() => loadConfig({ SHOP_WEBHOOK_SECRET: 'a-long-enough-secret-1,short' })).toThrow(/SHOP_WEBHOOK_SECRET: each secret must be at least 16/);
  });

  it('parses lists and loyalty tiers, and refuses broken tiers', () => {
    const c = loadConfig({ LANGUAGES: 'ru, en', LOYALTY_TIERS: 'a:A:A:0:1, b:B:B:100:2' });
    expect(c.i18n.languages).toEqual(['ru', 'en']);
    expect(c.loyalty.tiers).toEqual([
      { code: 'a', name: 'A', nameEn: 'A', minSpend: 0, accrualPercent: 1 },
      { code: 'b', name: 'B', nameEn: 'B', minSpend: 100, accrualPercent: 2 },
    ]);
    expect(() => loadConfig({ LOYALTY_TIERS: 'a:A:A:10:1' })).toThrow(/first tier must start at 0/);
    expect(() => loadConfig({ LOYALTY_TIERS: 'a:A:A:zero:1' })).toThrow(/LOYALTY_TIERS/);
  });

  it('leaves the sandbox when a bot token is configured, and never opens it by default in production', () => {
    expect(loadConfig({ TELEGRAM_BOT_TOKEN: '123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ' }).sandbox).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', SHOP_API_SECRET: 'a-long-enough-secret', OTP_SECRET: 'another-long-enough-secret' }).sandbox).toBe(false);
  });
});
