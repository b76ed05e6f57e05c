export { createFakeTelegram } from './fake-telegram.js';
export type {
  BotInfo,
  ChatEntry,
  ContactInput,
  CreateGroupInput,
  CreateUserInput,
  FailOptions,
  FakeTelegram,
  FakeTelegramOptions,
  GroupMember,
  MessageOptions,
  WaitOptions,
} from './fake-telegram.js';
export { DEFAULT_RATE_LIMITS } from './rate-limiter.js';
export type { BucketSpec, RateLimitConfig } from './rate-limiter.js';
export type { WebhookRetryOptions } from './delivery.js';
export type { CallRecord, ChatEvent, MemberStatus } from './state.js';
export { ERRORS, TelegramApiError } from './errors.js';
export type * from './types.js';
