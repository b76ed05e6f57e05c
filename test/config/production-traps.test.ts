/** Settings that would fail customers silently in production are refused at start. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';

const PROD = { NODE_ENV: 'production', SHOP_API_SECRET: 'a-long-enough-shop-secret', OTP_SECRET: 'a-long-enough-otp-secret' };
const VK = { VK_GROUP_TOKEN: 'vk1.a.token', VK_GROUP_ID: '77', VK_CALLBACK_SECRET: 'cb-secret', VK_CONFIRMATION_CODE: 'abc123' };

describe('production traps', () => {
  it('refuses the log SMS provider with VK on, accepts a real provider', () => {
    expect(() => loadConfig({ ...PROD, ...VK })).toThrow(/SMS_PROVIDER: must be http in production when VK is on/);
    expect(() => loadConfig({ ...PROD, ...VK, SMS_PROVIDER: 'log' })).toThrow(/SMS_PROVIDER/);
    expect(loadConfig({ ...PROD, ...VK, SMS_PROVIDER: 'http', SMS_HTTP_URL: 'https://sms.example/send' }).sms.provider).toBe('http');
    // Without VK nobody needs an SMS; outside production the log provider is what developers use.
    expect(loadConfig({ ...PROD }).sms.provider).toBe('log');
    expect(loadConfig({ ...VK }).sms.provider).toBe('log');
  });

  it('refuses SANDBOX=true in production', () => {
    expect(() => loadConfig({ ...PROD, SANDBOX: 'true' })).toThrow(/SANDBOX: must not be true in production/);
    expect(loadConfig({ ...PROD, SANDBOX: 'false' }).sandbox).toBe(false);
    expect(loadConfig({ SANDBOX: 'true' }).sandbox).toBe(true);
  });

  it('a METRICS_TOKEN is long enough to be a secret', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN: must be at least 16 characters/);
    expect(loadConfig({ METRICS_TOKEN: 'a-scrape-token-of-length' }).metricsToken).toBe('a-scrape-token-of-length');
  });
});
