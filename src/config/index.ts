/**
 * The one reader of process.env. Parsed once at start, validated, typed; a bad value fails
 * the start with a message naming the variable. Lists are comma-separated.
 */
import { existsSync } from 'node:fs';
import { parseWorkingHours } from '../domain/support/hours.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

export interface LoyaltyTierConfig {
  code: string;
  name: string;
  nameEn: string;
  minSpend: number;
  accrualPercent: number;
}

export interface Config {
  env: 'development' | 'production' | 'test';
  logLevel: string;
  http: { host: string; port: number; publicUrl: string | undefined; bodyLimitBytes: number };
  databaseUrl: string;
  redisUrl: string;
  /** BullMQ key prefix; braces make it a Redis Cluster hash tag so a queue's keys share a slot. */
  queuePrefix: string;
  /** Prefix for Kabinet's own Redis keys (sessions, locks, dedup). */
  redisKeyPrefix: string;
  i18n: { defaultLanguage: string; languages: string[] };
  /** IANA time zone for dates shown to customers and operators. */
  timeZone: string;
  telegram: {
    token: string | undefined;
    apiRoot: string;
    webhookUrl: string | undefined;
    webhookSecret: string | undefined;
    /** Messages per second across all chats (Telegram's bulk limit). */
    rateLimitPerSecond: number;
    paidBroadcast: boolean;
  };
  staff: {
    token: string | undefined;
    /** Staff supergroups with topics (STAFF_CHAT_ID, comma-separated); new conversations are spread across them. */
    chatIds: string[];
    webhookUrl: string | undefined;
    webhookSecret: string | undefined;
    /** Telegram user ids allowed to act; empty = every member of a staff group. */
    userIds: string[];
    /** Telegram user ids of admins (reassigning, broadcasts). */
    adminIds: string[];
    /** Messages per window into one staff group (Telegram: 20 a minute). */
    groupRateLimit: number;
    groupRateWindowMs: number;
  };
  vk: {
    groupId: number | undefined;
    token: string | undefined;
    apiBaseUrl: string;
    callbackSecret: string | undefined;
    confirmationCode: string | undefined;
    rateLimitPerSecond: number;
  };
  shop: {
    name: string;
    /** The first of `apiSecrets` (what Kabinet's own tools sign with). */
    apiSecret: string | undefined;
    /** Secrets the shop API accepts: one, or two while rotating (SHOP_API_SECRET, comma-separated). */
    apiSecrets: string[];
    /** Secrets webhooks to the shop are signed with, one `v1` each (SHOP_WEBHOOK_SECRET, else SHOP_API_SECRET). */
    webhookSecrets: string[];
    signatureToleranceSeconds: number;
    /** Body caps of the shop API, read before the signature is checked: single routes, batch routes. */
    bodyLimitBytes: number;
    batchBodyLimitBytes: number;
    webhookUrl: string | undefined;
    /** Cart link for a repeat order; {items} becomes "sku:qty,sku:qty", {order} the order number. */
    cartUrlTemplate: string;
    productUrlTemplate: string | undefined;
  };
  adminApiToken: string | undefined;
  /** Days kept: dedup ids, delivered webhooks, finished notifications, used login codes. */
  retention: { processedEventsDays: number; outboxDays: number; notificationsDays: number; otpCodesDays: number };
  /** Bearer token for /metrics; unset: open outside production, closed (403) in production. */
  metricsToken: string | undefined;
  loyalty: { pointsTtlDays: number; expiryWarningDays: number; tiers: LoyaltyTierConfig[] };
  sms: { provider: 'log' | 'http'; httpUrl: string | undefined; httpToken: string | undefined; sender: string };
  /** One-time login codes (VK and any channel without contact sharing). */
  otp: {
    secret: string; ttlSeconds: number; maxAttempts: number; resendCooldownSeconds: number;
    perPhonePerHour: number; perIdentityPerHour: number; perPhoneStrangersPerHour: number; globalPerHour: number; knownAfterDays: number;
  };
  /** Recycled numbers: a new messenger account on a customer dormant this long must confirm it is the owner (0 = off). */
  login: { dormantAfterDays: number };
  support: {
    autoReplyAfterSeconds: number;
    /** SUPPORT_HOURS as written ("mon-fri 09:00-18:00, sat 10:00-16:00"); empty = always. */
    hours: string;
    /** A reminder in the staff topic for a conversation waiting this long with no answer. */
    reminderAfterSeconds: number;
    /** How often auto-replies and reminders are looked for. */
    sweepIntervalMs: number;
  };
  /** No bot tokens at all: Kabinet opens the browser sandbox with its own fake servers. */
  sandbox: boolean;
  /** The durable inbound queue's consumers (worker role): chats handled at once per process. */
  inbound: { concurrency: number };
  /** Sends to customers through the per-platform queues (issue 4). */
  notifications: {
    /** Tries for a transient failure (network, 5xx) before the notification is failed. */
    sendAttempts: number;
    sendBackoffMs: number;
    /** How often the sweeper re-queues pending rows whose job was lost, and how old they must be. */
    sweepIntervalMs: number;
    sweepGraceMs: number;
  };
  /** Broadcasts (issue 10): tries per recipient for transient failures; staff progress edits at most this often. */
  broadcasts: { sendAttempts: number; progressIntervalMs: number };
  /** Signed webhooks to the shop (issue 4). */
  outbox: {
    maxAttempts: number;
    /** Backoff base: attempt n waits about base * 2^(n-1), jittered, capped at backoffMaxMs. */
    backoffBaseMs: number;
    backoffMaxMs: number;
    timeoutMs: number;
    sweepIntervalMs: number;
  };
  /** BullMQ job lock: a job of a dead worker is taken over after about this long. */
  queueLockDurationMs: number;
  /** Points expiry and warnings run this often. */
  loyaltyMaintenanceIntervalMs: number;
  /** Shop-platform adapters; each is on only when its webhook secret is set. */
  integrations: IntegrationsConfig;
}

export interface WooCommerceConfig {
  /** The shop's site, e.g. https://shop.example (REST API under /wp-json/wc/v3). */
  url: string | undefined;
  webhookSecret: string;
  consumerKey: string | undefined;
  consumerSecret: string | undefined;
  /** WooCommerce status → Kabinet status; defaults overridden by WOOCOMMERCE_STATUS_MAP. */
  statusMap: Record<string, string>;
}

export interface ShopifyConfig {
  /** my-shop.myshopify.com (or the shop's own domain for cart links). */
  shopDomain: string | undefined;
  webhookSecret: string;
  accessToken: string | undefined;
  apiVersion: string;
  /** Admin API base; https://<shopDomain> by default (a look-alike in tests). */
  apiBaseUrl: string | undefined;
}

export interface IntegrationsConfig {
  woocommerce: WooCommerceConfig | undefined;
  shopify: ShopifyConfig | undefined;
}

/** WooCommerce's own statuses (and those of the common shipment-tracking plugins) → Kabinet's. */
export const DEFAULT_WOOCOMMERCE_STATUS_MAP: Record<string, string> = {
  pending: 'created',
  'on-hold': 'confirmed',
  processing: 'paid',
  shipped: 'shipped',
  'partial-shipped': 'shipped',
  delivered: 'delivered',
  completed: 'delivered',
  cancelled: 'cancelled',
  failed: 'cancelled',
  refunded: 'returned',
};

const DEV_OTP_SECRET = 'kabinet-dev-otp-secret-not-for-production';

const DEFAULT_TIERS = 'base:Базовый:Base:0:3,silver:Серебряный:Silver:20000:5,gold:Золотой:Gold:60000:7';

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  private raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  optional(name: string, check?: (v: string) => string | undefined): string | undefined {
    const value = this.raw(name);
    if (value !== undefined && check) {
      const problem = check(value);
      if (problem) {
        this.problems.push(`${name}: ${problem}`);
        return undefined;
      }
    }
    return value;
  }

  int(name: string, fallback: number, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.problems.push(`${name}: expected a whole number between ${min} and ${max}, got "${value}"`);
      return fallback;
    }
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(value)) return true;
    if (['0', 'false', 'no', 'off'].includes(value)) return false;
    this.problems.push(`${name}: expected true or false, got "${value}"`);
    return fallback;
  }

  oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!(values as readonly string[]).includes(value)) {
      this.problems.push(`${name}: expected one of ${values.join(', ')}, got "${value}"`);
      return fallback;
    }
    return value as T;
  }

  url(name: string, fallback: string, protocols?: string[]): string;
  url(name: string, fallback: undefined, protocols?: string[]): string | undefined;
  url(name: string, fallback: string | undefined, protocols = ['http:', 'https:']): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    try {
      const url = new URL(value);
      if (!protocols.includes(url.protocol)) throw new Error('protocol');
      return value.replace(/\/+$/, '');
    } catch {
      this.problems.push(`${name}: expected a ${protocols.join(' or ')} URL, got "${redactUrl(value)}"`);
      return fallback;
    }
  }

  list(name: string, fallback: string[]): string[] {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    return value.split(',').map((s) => s.trim()).filter(Boolean);
  }
}

/** Never echo credentials back in an error message. */
function redactUrl(value: string): string {
  return value.replace(/\/\/[^@/]*@/, '//***@');
}

const secretToken = (v: string) =>
  /^[A-Za-z0-9_-]{1,256}$/.test(v) ? undefined : 'must be 1-256 characters of A-Z, a-z, 0-9, _ and -';

function parseTiers(reader: Reader, raw: string[]): LoyaltyTierConfig[] {
  const tiers: LoyaltyTierConfig[] = [];
  for (const entry of raw) {
    const [code, name, nameEn, minSpend, percent] = entry.split(':').map((s) => s.trim());
    const spend = Number(minSpend);
    const pct = Number(percent);
    if (!code || !name || !nameEn || !Number.isFinite(spend) || spend < 0 || !Number.isFinite(pct) || pct < 0 || pct > 100) {
      reader.problems.push(`LOYALTY_TIERS: "${entry}" is not code:Name:EnglishName:minSpend:accrualPercent`);
      continue;
    }
    tiers.push({ code, name, nameEn, minSpend: spend, accrualPercent: pct });
  }
  tiers.sort((a, b) => a.minSpend - b.minSpend);
  if (tiers.length > 0 && tiers[0]!.minSpend !== 0) reader.problems.push('LOYALTY_TIERS: the first tier must start at 0');
  return tiers;
}

const KABINET_STATUSES = ['created', 'confirmed', 'paid', 'assembling', 'shipped', 'ready_for_pickup', 'delivered', 'cancelled', 'returned'];

function readIntegrations(r: Reader): IntegrationsConfig {
  const wooSecret = r.optional('WOOCOMMERCE_WEBHOOK_SECRET');
  const statusMap = { ...DEFAULT_WOOCOMMERCE_STATUS_MAP };
  for (const entry of r.list('WOOCOMMERCE_STATUS_MAP', [])) {
    const [from, to] = entry.split(':').map((s) => s.trim());
    if (!from || !to || !KABINET_STATUSES.includes(to)) {
      r.problems.push(`WOOCOMMERCE_STATUS_MAP: "${entry}" is not wooStatus:kabinetStatus (one of ${KABINET_STATUSES.join(', ')})`);
      continue;
    }
    statusMap[from.replace(/^wc-/, '')] = to;
  }
  const woocommerce: WooCommerceConfig | undefined = wooSecret
    ? {
        url: r.url('WOOCOMMERCE_URL', undefined),
        webhookSecret: wooSecret,
        consumerKey: r.optional('WOOCOMMERCE_CONSUMER_KEY'),
        consumerSecret: r.optional('WOOCOMMERCE_CONSUMER_SECRET'),
        statusMap,
      }
    : undefined;
  const shopifySecret = r.optional('SHOPIFY_WEBHOOK_SECRET');
  const shopDomain = r.optional('SHOPIFY_SHOP_DOMAIN', (v) => (/^[a-z0-9][a-z0-9.-]*\.[a-z]{2,}$/i.test(v) ? undefined : 'expected a host name such as my-shop.myshopify.com'));
  const shopify: ShopifyConfig | undefined = shopifySecret
    ? {
        shopDomain,
        webhookSecret: shopifySecret,
        accessToken: r.optional('SHOPIFY_ACCESS_TOKEN'),
        apiVersion: r.optional('SHOPIFY_API_VERSION', (v) => (/^\d{4}-\d{2}$/.test(v) ? undefined : 'expected YYYY-MM, e.g. 2025-01')) ?? '2025-01',
        apiBaseUrl: r.url('SHOPIFY_API_BASE_URL', undefined),
      }
    : undefined;
  if (woocommerce && shopify) r.problems.push('WOOCOMMERCE_WEBHOOK_SECRET and SHOPIFY_WEBHOOK_SECRET: a Kabinet serves one shop; set one of them');
  return { woocommerce, shopify };
}

/** A comma-separated list of ids, each checked. */
function idList(r: Reader, name: string, pattern: RegExp, what: string): string[] {
  const ids = r.list(name, []);
  const bad = ids.filter((id) => !pattern.test(id));
  if (bad.length > 0) r.problems.push(`${name}: expected ${what}, got "${bad.join('", "')}"`);
  return [...new Set(ids.filter((id) => pattern.test(id)))];
}

/** Parses and validates the environment. Throws ConfigError naming every bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const r = new Reader(env);
  const nodeEnv = r.oneOf('NODE_ENV', ['development', 'production', 'test'] as const, 'development');

  const languages = r.list('LANGUAGES', ['ru', 'en']);
  const defaultLanguage = r.string('DEFAULT_LANGUAGE', 'ru');
  if (!languages.includes(defaultLanguage)) r.problems.push(`DEFAULT_LANGUAGE: "${defaultLanguage}" is not in LANGUAGES (${languages.join(',')})`);

  const telegramToken = r.optional('TELEGRAM_BOT_TOKEN', (v) => (/^\d+:[\w-]{20,}$/.test(v) ? undefined : 'does not look like a bot token (123456:ABC...)'));
  const staffToken = r.optional('STAFF_BOT_TOKEN', (v) => (/^\d+:[\w-]{20,}$/.test(v) ? undefined : 'does not look like a bot token (123456:ABC...)'));
  const vkToken = r.optional('VK_GROUP_TOKEN');
  const vkGroupId = r.int('VK_GROUP_ID', 0, 0);

  const config: Config = {
    env: nodeEnv,
    logLevel: r.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, nodeEnv === 'test' ? 'silent' : 'info'),
    http: {
      host: r.string('HOST', '127.0.0.1'),
      port: r.int('PORT', 3000, 0, 65535),
      publicUrl: r.url('PUBLIC_URL', undefined),
      bodyLimitBytes: r.int('HTTP_BODY_LIMIT_BYTES', 10 * 1024 * 1024, 1024),
    },
    databaseUrl: r.url('DATABASE_URL', 'postgresql://postgres@127.0.0.1:5432/kabinet', ['postgres:', 'postgresql:']),
    redisUrl: r.url('REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    queuePrefix: r.string('QUEUE_PREFIX', '{kabinet}'),
    redisKeyPrefix: r.string('REDIS_KEY_PREFIX', 'kabinet:'),
    // Chats a worker handles at once per channel. A handler mostly waits on the Bot API's round
    // trip, so this bounds a worker at about INBOUND_CONCURRENCY / round trip updates per second
    // (32 at Telegram's ~100 ms: ~300/s, below what one core handles); see bench/README.md.
    inbound: { concurrency: r.int('INBOUND_CONCURRENCY', 128, 1, 1000) },
    i18n: { defaultLanguage, languages },
    timeZone: r.optional('TIME_ZONE', (v) => { try { new Intl.DateTimeFormat('en', { timeZone: v }); return undefined; } catch { return 'is not an IANA time zone (e.g. Europe/Moscow)'; } }) ?? 'Europe/Moscow',
    telegram: {
      token: telegramToken,
      apiRoot: r.url('TELEGRAM_API_ROOT', 'https://api.telegram.org'),
      webhookUrl: r.url('TELEGRAM_WEBHOOK_URL', undefined),
      webhookSecret: r.optional('TELEGRAM_WEBHOOK_SECRET', secretToken),
      rateLimitPerSecond: r.int('TELEGRAM_RATE_LIMIT', 30, 1, 1000),
      paidBroadcast: r.bool('TELEGRAM_PAID_BROADCAST', false),
    },
    staff: {
      token: staffToken,
      chatIds: idList(r, 'STAFF_CHAT_ID', /^-\d+$/, 'a negative group chat id (e.g. -1001234567890)'),
      webhookUrl: r.url('STAFF_WEBHOOK_URL', undefined),
      webhookSecret: r.optional('STAFF_WEBHOOK_SECRET', secretToken),
      userIds: idList(r, 'STAFF_USER_IDS', /^\d{1,20}$/, 'a Telegram user id'),
      adminIds: idList(r, 'STAFF_ADMIN_IDS', /^\d{1,20}$/, 'a Telegram user id'),
      groupRateLimit: r.int('STAFF_GROUP_RATE_LIMIT', 20, 1, 1000),
      groupRateWindowMs: r.int('STAFF_GROUP_RATE_WINDOW_MS', 60_000, 100, 3_600_000),
    },
    vk: {
      groupId: vkGroupId === 0 ? undefined : vkGroupId,
      token: vkToken,
      apiBaseUrl: r.url('VK_API_BASE_URL', 'https://api.vk.ru/method'),
      callbackSecret: r.optional('VK_CALLBACK_SECRET'),
      confirmationCode: r.optional('VK_CONFIRMATION_CODE'),
      rateLimitPerSecond: r.int('VK_RATE_LIMIT', 20, 1, 1000),
    },
    shop: {
      name: r.string('SHOP_NAME', 'Kabinet Demo Shop'),
      apiSecret: undefined as string | undefined,
      apiSecrets: r.list('SHOP_API_SECRET', []),
      webhookSecrets: r.list('SHOP_WEBHOOK_SECRET', []),
      signatureToleranceSeconds: r.int('SHOP_SIGNATURE_TOLERANCE_SECONDS', 300, 1, 3600),
      bodyLimitBytes: r.int('SHOP_API_BODY_LIMIT_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
      batchBodyLimitBytes: r.int('SHOP_API_BATCH_BODY_LIMIT_BYTES', 32 * 1024 * 1024, 1024, 256 * 1024 * 1024),
      webhookUrl: r.url('SHOP_WEBHOOK_URL', undefined),
      cartUrlTemplate: r.string('SHOP_CART_URL_TEMPLATE', 'https://shop.example/cart?items={items}&ref=kabinet'),
      productUrlTemplate: r.optional('SHOP_PRODUCT_URL_TEMPLATE'),
    },
    adminApiToken: r.optional('ADMIN_API_TOKEN', (v) => (v.length >= 16 ? undefined : 'must be at least 16 characters')),
    metricsToken: r.optional('METRICS_TOKEN', (v) => (v.length >= 16 ? undefined : 'must be at least 16 characters')),
    retention: {
      processedEventsDays: r.int('RETENTION_PROCESSED_EVENTS_DAYS', 30, 1, 3650),
      outboxDays: r.int('RETENTION_OUTBOX_DAYS', 30, 1, 3650),
      notificationsDays: r.int('RETENTION_NOTIFICATIONS_DAYS', 90, 1, 3650),
      otpCodesDays: r.int('RETENTION_OTP_CODES_DAYS', 1, 1, 365),
    },
    loyalty: {
      pointsTtlDays: r.int('LOYALTY_POINTS_TTL_DAYS', 365, 1),
      expiryWarningDays: r.int('LOYALTY_EXPIRY_WARNING_DAYS', 14, 0),
      tiers: [],
    },
    sms: {
      provider: r.oneOf('SMS_PROVIDER', ['log', 'http'] as const, 'log'),
      httpUrl: r.url('SMS_HTTP_URL', undefined),
      httpToken: r.optional('SMS_HTTP_TOKEN'),
      sender: r.string('SMS_SENDER', 'Kabinet'),
    },
    otp: {
      // HMAC key for stored code hashes; the dev default is refused in production below.
      secret: r.string('OTP_SECRET', DEV_OTP_SECRET),
      ttlSeconds: r.int('OTP_TTL_SECONDS', 300, 30, 3600),
      maxAttempts: r.int('OTP_MAX_ATTEMPTS', 5, 1, 20),
      resendCooldownSeconds: r.int('OTP_RESEND_COOLDOWN_SECONDS', 60, 0, 3600),
      perPhonePerHour: r.int('OTP_PER_PHONE_PER_HOUR', 5, 1, 1000),
      perIdentityPerHour: r.int('OTP_PER_IDENTITY_PER_HOUR', 10, 1, 1000),
      perPhoneStrangersPerHour: r.int('OTP_PER_PHONE_STRANGERS_PER_HOUR', 10, 1, 1000),
      globalPerHour: r.int('OTP_GLOBAL_PER_HOUR', 1000, 0, 1_000_000),
      knownAfterDays: r.int('OTP_KNOWN_AFTER_DAYS', 30, 0, 3650),
    },
    login: { dormantAfterDays: r.int('LOGIN_DORMANT_AFTER_DAYS', 180, 0, 3650) },
    support: {
      autoReplyAfterSeconds: r.int('SUPPORT_AUTO_REPLY_AFTER_SECONDS', 300, 1),
      hours: r.string('SUPPORT_HOURS', ''),
      reminderAfterSeconds: r.int('SUPPORT_REMINDER_AFTER_SECONDS', 900, 1),
      sweepIntervalMs: r.int('SUPPORT_SWEEP_INTERVAL_MS', 15_000, 100),
    },
    sandbox: false,
    notifications: {
      sendAttempts: r.int('NOTIFICATION_SEND_ATTEMPTS', 8, 1, 100),
      sendBackoffMs: r.int('NOTIFICATION_SEND_BACKOFF_MS', 2_000, 1),
      sweepIntervalMs: r.int('NOTIFICATION_SWEEP_INTERVAL_MS', 60_000, 100),
      sweepGraceMs: r.int('NOTIFICATION_SWEEP_GRACE_MS', 120_000, 0),
    },
    broadcasts: {
      sendAttempts: r.int('BROADCAST_SEND_ATTEMPTS', 5, 1, 100),
      progressIntervalMs: r.int('BROADCAST_PROGRESS_INTERVAL_MS', 5_000, 1_000),
    },
    outbox: {
      maxAttempts: r.int('OUTBOX_MAX_ATTEMPTS', 12, 1, 100),
      backoffBaseMs: r.int('OUTBOX_BACKOFF_BASE_MS', 10_000, 1),
      backoffMaxMs: r.int('OUTBOX_BACKOFF_MAX_MS', 6 * 3600 * 1000, 1),
      timeoutMs: r.int('OUTBOX_TIMEOUT_MS', 10_000, 100),
      sweepIntervalMs: r.int('OUTBOX_SWEEP_INTERVAL_MS', 60_000, 100),
    },
    queueLockDurationMs: r.int('QUEUE_LOCK_DURATION_MS', 30_000, 500),
    loyaltyMaintenanceIntervalMs: r.int('LOYALTY_MAINTENANCE_INTERVAL_MS', 3600 * 1000, 1000),
    integrations: readIntegrations(r),
  };
  config.loyalty.tiers = parseTiers(r, r.list('LOYALTY_TIERS', DEFAULT_TIERS.split(',')));

  // Pairs that only make sense together.
  if (config.telegram.webhookUrl && !config.telegram.webhookSecret) r.problems.push('TELEGRAM_WEBHOOK_SECRET: required when TELEGRAM_WEBHOOK_URL is set');
  if (config.staff.token && config.staff.chatIds.length === 0) r.problems.push('STAFF_CHAT_ID: required when STAFF_BOT_TOKEN is set');
  if (config.staff.webhookUrl && !config.staff.webhookSecret) r.problems.push('STAFF_WEBHOOK_SECRET: required when STAFF_WEBHOOK_URL is set');
  try {
    parseWorkingHours(config.support.hours, config.timeZone);
  } catch (err) {
    r.problems.push(`SUPPORT_HOURS: ${(err as Error).message}`);
  }
  if (vkToken && (!config.vk.groupId || !config.vk.callbackSecret || !config.vk.confirmationCode)) {
    r.problems.push('VK_GROUP_ID, VK_CALLBACK_SECRET and VK_CONFIRMATION_CODE: required when VK_GROUP_TOKEN is set');
  }
  if (config.sms.provider === 'http' && !config.sms.httpUrl) r.problems.push('SMS_HTTP_URL: required when SMS_PROVIDER=http');
  if (config.otp.secret.length < 16) r.problems.push('OTP_SECRET: must be at least 16 characters');
  if (nodeEnv === 'production' && config.otp.secret === DEV_OTP_SECRET) r.problems.push('OTP_SECRET: required in production');
  // Rotation: at most two secrets at once (the old and the new), each long enough.
  for (const [name, secrets] of [['SHOP_API_SECRET', config.shop.apiSecrets], ['SHOP_WEBHOOK_SECRET', config.shop.webhookSecrets]] as const) {
    if (secrets.length > 2) r.problems.push(`${name}: at most two comma-separated secrets (the old and the new one while rotating)`);
    if (secrets.some((s) => s.length < 16)) r.problems.push(`${name}: each secret must be at least 16 characters`);
  }
  config.shop.apiSecret = config.shop.apiSecrets[0];
  if (config.shop.webhookSecrets.length === 0) config.shop.webhookSecrets = config.shop.apiSecrets;
  if (nodeEnv === 'production' && !config.shop.apiSecret) r.problems.push('SHOP_API_SECRET: required in production');

  // The sandbox exposes a shop panel and chat-as-anyone pages: never by default in production.
  config.sandbox = r.bool('SANDBOX', !telegramToken && !vkToken && !staffToken && nodeEnv !== 'production');
  productionTraps(r, config);
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}

/**
 * Settings that work in development and silently fail customers in production: refused at
 * start, so a deploy cannot go live with them.
 */
function productionTraps(r: Reader, config: Config): void {
  if (config.env !== 'production') return;
  if (config.sandbox) r.problems.push('SANDBOX: must not be true in production (the sandbox lets anyone chat as any customer and change orders)');
  // VK logins need a code by SMS; the log provider tells the customer one was sent and sends nothing.
  if (config.vk.token && config.sms.provider === 'log') r.problems.push('SMS_PROVIDER: must be http in production when VK is on (the log provider sends no login codes)');
}

/** Loads ./.env into process.env if present (Node's own parser); real environment wins. */
export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}
