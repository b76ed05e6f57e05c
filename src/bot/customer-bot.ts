/**
 * The customer bot's brain: one grammY Bot, the same for every channel. The channel
 * (platform + capabilities) and, for channels without contact sharing, the phone-login
 * flow are dependencies; VK reaches this brain through Telegram-shaped updates and an API
 * transformer that turns outgoing calls into VK calls.
 *
 * Middleware order: per-chat lock (order across instances) with update_id dedup and the
 * session/flow reads in the same Redis round trip → session →
 * who is writing (identity, language) → callback auto-answer → [error boundary: flows,
 * features, unhandled].
 */
import { conversations, createConversation, type ConversationData, type VersionedState } from '@grammyjs/conversations';
import { Bot, session, type ApiClientOptions, type Context, type MiddlewareFn } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import { hash } from 'node:crypto';
import { createRetryingFetch } from '../channels/api-retry.js';
import { sequence } from './sequence.js';
import { createKeepAliveFetch } from '../channels/keep-alive-fetch.js';
import { useJsonCalls } from '../channels/telegram/json-calls.js';
import type { Config } from '../config/index.js';
import { isDomainError } from '../errors.js';
import type { Clock } from '../infra/clock.js';
import type { Translator } from '../infra/i18n.js';
import type { Logger } from '../infra/logger.js';
import type { PrismaClient } from '../infra/prisma.js';
import type { Redis } from '../infra/redis.js';
import { isBlockedByUser } from './blocked.js';
import type { Channel } from './channel.js';
import { cleanUpdateText } from './clean-text.js';
import type { BotContext, FlowContext, PendingAction, SessionData } from './context.js';
import { ADDRESS_FORM_CONVERSATION, createAddressFormConversation } from './conversations/address-form.conversation.js';
import { CONTACT_LOGIN_CONVERSATION, createContactLoginConversation, type LoginArgs } from './conversations/contact-login.conversation.js';
import { createProductSearchConversation, PRODUCT_SEARCH_CONVERSATION } from './conversations/product-search.conversation.js';
import { createProfileFieldConversation, PROFILE_FIELD_CONVERSATION } from './conversations/profile-field.conversation.js';
import { createSupportRequestConversation, SUPPORT_REQUEST_CONVERSATION } from './conversations/support-request.conversation.js';
import { createAddressesFeature } from './features/addresses.feature.js';
import { createContactFeature } from './features/contact.feature.js';
import { createHelpFeature } from './features/help.feature.js';
import { flowArgs } from './features/helpers.js';
import { createLoyaltyFeature } from './features/loyalty.feature.js';
import { createOrdersFeature } from './features/orders.feature.js';
import { createProfileFeature } from './features/profile.feature.js';
import { createStartFeature, menuAliases } from './features/start.feature.js';
import { createUnhandledFeature } from './features/unhandled.feature.js';
import { createWishlistFeature } from './features/wishlist.feature.js';
import type { BotKit, Flow } from './kit.js';
import { createChatLock, type ChatLock } from './ordering/chat-lock.js';
import { inboundItemOf, type InboundItem } from './ordering/inbound-queue.js';
import { createUpdateDedup } from './ordering/update-dedup.js';
import { unavailableDependency } from '../infra/dependency-errors.js';
import { createCustomerBotServices, type CustomerBotServices } from './services.js';
import type { OutboxDispatcher } from '../outbox/enqueue.js';
import { createRedisStorage } from './storage/redis-storage.js';
import type { IdentityDto } from '../domain/customers/identities.js';
import type { QueueFactory } from '../infra/queues.js';
import { createSupportFeature } from './features/support.feature.js';

/**
 * Bump when a conversation's steps change incompatibly: flows stored under the old version
 * are dropped instead of being replayed into the new code.
 */
export const FLOWS_VERSION = 3;

/** A login flow for channels that cannot share a contact (VK: phone + one-time code). */
export interface PhoneLoginStrategy {
  /** Conversation id; entered with LoginArgs. */
  id: string;
  /**
   * Builds the conversation. It must establish that the phone is the person's (a verified
   * code), then call kit.services.identities.loginWithPhone and finish with `finishLogin`
   * (exported from conversations/finish-login.ts) so deep-linked actions resume.
   */
  create(kit: BotKit): (conversation: Flow, ctx: FlowContext, args: LoginArgs) => Promise<void>;
}

export interface CustomerBotDeps {
  token: string;
  channel: Channel;
  /** Bot API root (a local Bot API server, the fake in tests, the VK bridge's shim). */
  apiRoot?: string | undefined;
  /** Skips getMe at init when known. */
  botInfo?: UserFromGetMe | undefined;
  /**
   * Extra grammY client options. The VK bridge passes `fetch`: conversations build their own
   * Api from these options (bot.api's transformers do not reach them), so this is how calls
   * made inside a conversation reach the channel too.
   */
  client?: ApiClientOptions | undefined;
  config: Config;
  logger: Logger;
  prisma: PrismaClient;
  redis: Redis;
  clock: Clock;
  translator: Translator;
  services?: CustomerBotServices;
  /** Delivers the shop webhooks the services write right after commit (see bot/services.ts). */
  outbox?: OutboxDispatcher | undefined;
  /** Queues: support messages go to the staff groups through them (bot/services.ts). */
  queues?: QueueFactory | undefined;
  phoneLogin?: PhoneLoginStrategy | undefined;
  /** Time zone for dates shown to customers. Default: config.timeZone (TIME_ZONE). */
  timeZone?: string;
  /** Namespace of this bot's Redis keys; default derived from the token. */
  botKey?: string;
  /** Per-chat lock tuning (tests shorten the poll). */
  lock?: { leaseMs?: number; maxWaitMs?: number; maxPollMs?: number };
}

export interface CustomerBot {
  bot: Bot<BotContext>;
  chatLock: ChatLock;
  services: CustomerBotServices;
  /** This bot's Redis key namespace ("<REDIS_KEY_PREFIX>bot:<botKey>:"). */
  keyPrefix: string;
  /**
   * The prefixes of the per-chat state the bot reads first (session, flow, kept identity):
   * the inbound consumer reads `prefix + chat` with each claim (InboundConsumerOptions.readPrefixes).
   */
  readPrefixes: readonly string[];
}

const SESSION_TTL_SECONDS = 30 * 86_400;
const FLOW_TTL_SECONDS = 7 * 86_400;
/** Telegram keeps undelivered updates for 24 h. */
const UPDATE_MARK_TTL_SECONDS = 86_400;
/**
 * How long identify() trusts the identity it read for a chat (kept in Redis, read with the
 * chat lock in the same round trip) instead of asking PostgreSQL on every update. The bot's
 * own changes drop it at once (login, logout, language, blocked: the identities calls below,
 * and every step of a flow); changes made elsewhere (the shop changing a customer's language,
 * a worker marking the person blocked) reach the chat within this time. lastSeenAt is still
 * written at most once a minute, so it lags by up to this much more. Each entry is kept for a
 * random 75–100 % of this, so chats that came together (a broadcast's answers, a bench's log-in)
 * do not all go back to PostgreSQL in the same moment.
 */
export const IDENTITY_CACHE_SECONDS = 30;
const identityTtl = () => IDENTITY_CACHE_SECONDS - Math.floor(Math.random() * (IDENTITY_CACHE_SECONDS / 4 + 1));

function defaultBotKey(channel: Channel, token: string): string {
  const id = /^(\d+):/.exec(token)?.[1] ?? hash('sha256', token, 'hex').slice(0, 16);
  return `${channel.platform}:${id}`;
}

export function createCustomerBot(deps: CustomerBotDeps): CustomerBot {
  const { channel, config, logger, redis, translator } = deps;
  const baseServices = deps.services ?? createCustomerBotServices(deps);
  const botKey = deps.botKey ?? defaultBotKey(channel, deps.token);
  const keyPrefix = `${config.redisKeyPrefix}bot:${botKey}:`;
  const timeZone = deps.timeZone ?? config.timeZone;

  // One retry policy (capped attempts and waits) below grammY's stack: bot.api and every
  // conversation's own Api share this fetch (channels/api-retry.ts), over undici's request on
  // keep-alive connections (a fraction of the global fetch's CPU per call; channels/keep-alive-fetch.ts).
  const client = { ...(deps.apiRoot ? { apiRoot: deps.apiRoot } : {}), ...deps.client, fetch: createRetryingFetch(deps.client?.fetch ?? createKeepAliveFetch()) };
  const bot = new Bot<BotContext>(deps.token, { ...(deps.botInfo ? { botInfo: deps.botInfo } : {}), client });
  // Telegram's plain JSON calls (the replies, edits and callback answers of every update) skip
  // grammY's per-call machinery: about 35 µs of CPU per call (telegram/json-calls.ts).
  // Installed first, so every transformer added later still wraps it. VK's calls never reach the
  // network through grammY's client (its transformer answers them), so it is not installed there.
  if (channel.platform === 'telegram') useJsonCalls(bot.api, client);

  const chatKeyOf = (ctx: Context) => (ctx.chatId ?? ctx.from?.id)?.toString();
  const sessionPrefix = `${keyPrefix}session:`;
  const flowPrefix = `${keyPrefix}flow:`;
  const updPrefix = `${keyPrefix}upd:`;
  const whoPrefix = `${keyPrefix}who:`;
  const statePrefixes = [sessionPrefix, flowPrefix, whoPrefix];
  // A hold adopted from the inbound queue is found by the chat its state keys end in, not in an
  // AsyncLocalStorage (chat-lock.ts, chatOfKey).
  const chatLock = createChatLock({
    redis,
    prefix: `${keyPrefix}lock:`,
    chatOfKey: (key) => {
      const prefix = statePrefixes.find((p) => key.startsWith(p));
      return prefix === undefined ? undefined : key.slice(prefix.length);
    },
    ...deps.lock,
  });
  /**
   * The chats whose update runs now, by the identity identify() found there: an identities call
   * that changes who the person is names the identity, and its chat's kept identity is dropped.
   */
  const chatOfIdentity = new Map<string, string>();
  /** Drops the identity identify() keeps for the chat (fenced like the other state). */
  const forgetIdentity = async (chat: string | undefined) => {
    if (chat !== undefined) await chatLock.write(whoPrefix + chat, null, 0);
  };
  /** The chat whose kept identity an identities call changes (undefined: none handled here now). */
  const chatOf = (who: IdentityRef): string | undefined => {
    if ('identityId' in who) return chatOfIdentity.get(who.identityId);
    // The customer bot works in private chats only (identify()): the chat is the person's id.
    return who.platform === channel.platform ? who.externalId : undefined;
  };
  const services = forgettingIdentity(baseServices, (who) => forgetIdentity(chatOf(who)));

  const kit: BotKit = {
    services,
    translator,
    config,
    logger,
    timeZone,
    view: (lang) => ({ t: translator.t(lang), lang, timeZone, shopName: config.shop.name }),
    async startLogin(ctx, pending, phone) {
      const args: LoginArgs = { ...flowArgs(ctx), pending };
      if (ctx.channel.capabilities.requestContact) return ctx.conversation.enter(CONTACT_LOGIN_CONVERSATION, args);
      if (deps.phoneLogin) return ctx.conversation.enter(deps.phoneLogin.id, { ...args, ...(phone ? { phone } : {}) });
      await ctx.reply(ctx.t('auth.unavailable'));
    },
  };
  const onDuplicate = (updateId: number) => logger.info({ updateId, bot: botKey }, 'duplicate update ignored');
  // Session and flow state read by the lock's acquire script, taken by the storages below.
  const prefetched = new Map<string, string | null>();

  const readPrefixes = [sessionPrefix, flowPrefix, whoPrefix] as const;
  // Items whose claim an update adopted: one update per item (an item is one update).
  const adopted = new WeakSet<InboundItem>();

  // Lock, dedup and the state reads in one Redis round trip: copies of one update are
  // serialized and the second sees the first's mark (set with the release, after success).
  // Through the inbound queue (webhook mode) the consumer's claim already holds the chat in
  // every process, the queue dedups the platform's ids and its acknowledgement marks the
  // update done, and the state was read with the claim: no lock round trips at all.
  const dedupUnlocked = createUpdateDedup<BotContext>({ redis, prefix: updPrefix, onDuplicate });
  const holdChat: MiddlewareFn<BotContext> = async (ctx, next) => {
    const chat = chatKeyOf(ctx);
    if (!chat) return dedupUnlocked(ctx, next);
    const sessionKey = ctx.chatId?.toString(); // grammY's default session key
    const readKeys = sessionKey === undefined ? [flowPrefix + chat, whoPrefix + chat] : [sessionPrefix + sessionKey, flowPrefix + chat, whoPrefix + chat];
    const run = async (values: readonly (string | null)[]) => {
      readKeys.forEach((key, i) => prefetched.set(key, values[i] ?? null));
      try {
        await next();
      } finally {
        for (const key of readKeys) prefetched.delete(key);
      }
    };
    const item = inboundItemOf(ctx.update);
    if (item?.claim && item.chat === chat && !adopted.has(item)) {
      adopted.add(item);
      const claim = item.claim;
      const known = new Map<string, string | null>();
      if (item.values?.length === readPrefixes.length) readPrefixes.forEach((prefix, i) => known.set(prefix + chat, item.values![i] ?? null));
      const missing = readKeys.filter((key) => !known.has(key));
      if (missing.length > 0) (await redis.mget(...missing)).forEach((value, i) => known.set(missing[i]!, value));
      await chatLock.adopt(chat, claim, () => run(readKeys.map((key) => known.get(key) ?? null)));
      return;
    }
    const result = await chatLock.runUpdate(chat, { doneKey: updPrefix + ctx.update.update_id, doneTtlSeconds: UPDATE_MARK_TTL_SECONDS, readKeys }, (values) => run(values));
    if (result.duplicate) onDuplicate(ctx.update.update_id);
  };
  // One step per middleware an update reaches (sequence.ts), not a wrapper per `use`.
  bot.use(
    sequence<BotContext>([
      holdChat,
      session<SessionData, BotContext>({ initial: () => ({}), storage: createRedisStorage<SessionData>({ redis, prefix: sessionPrefix, ttlSeconds: SESSION_TTL_SECONDS, prefetched, writer: chatLock.write, reader: chatLock.read }) }),
      cleanUpdateText,
      identify(deps, services, {
        cached(chat) {
          const raw = prefetched.get(whoPrefix + chat);
          prefetched.delete(whoPrefix + chat);
          if (!raw) return undefined;
          try {
            return JSON.parse(raw) as CachedIdentity;
          } catch {
            return undefined;
          }
        },
        keep: (chat, entry) => chatLock.write(whoPrefix + chat, JSON.stringify(entry), identityTtl()),
        running: chatOfIdentity,
      }),
      autoAnswerCallbacks,
    ]),
  );

  const flows = bot.errorBoundary(async (err) => {
    const ctx = err.ctx;
    if (isBlockedByUser(err.error)) {
      // Nobody to tell (a second message would fail the same way): stop writing to them.
      logger.info({ updateId: ctx.update.update_id, platform: channel.platform }, 'the person blocked the bot; identity marked');
      if (ctx.from) await services.identities.markBlocked(channel.platform, String(ctx.from.id)).catch((e: unknown) => logger.warn({ err: e }, 'could not mark the identity blocked'));
      return;
    }
    // Redis or PostgreSQL unreachable for a moment: not the person's problem, and not a reason
    // to give up the update. Thrown on, it is retried (the inbound queue's backoff, or the
    // platform's redelivery) and answered properly once the storage is back.
    const down = unavailableDependency(err.error);
    if (down === 'redis' || down === 'postgres') throw err.error;
    const domain = isDomainError(err.error) ? err.error : undefined;
    if (!domain || domain.code !== 'not_found') logger.error({ err: err.error, updateId: ctx.update.update_id }, 'customer bot handler failed');
    const text = ctx.t ? ctx.t(domain?.code === 'not_found' ? 'errors.not_found' : 'errors.generic') : 'Error';
    try {
      if (ctx.callbackQuery) await ctx.answerCallbackQuery({ text, show_alert: !domain });
      else if (ctx.chat) await ctx.reply(text);
    } catch (replyError) {
      logger.warn({ err: replyError }, 'could not tell the user about an error');
    }
  });

  // A flow's steps (logins above all, VK's code login included, whose identities calls are not
  // the bot's) may change who the person is: each write of its state drops the identity kept.
  const flowStorage = createRedisStorage<VersionedState<ConversationData>>({
    redis,
    prefix: flowPrefix,
    ttlSeconds: FLOW_TTL_SECONDS,
    prefetched,
    reader: chatLock.read,
    writer: async (key, value, ttl) => {
      await chatLock.write(key, value, ttl);
      await forgetIdentity(key.slice(flowPrefix.length));
    },
  });
  // One step per middleware an update reaches (sequence.ts): /start is answered by the fourth.
  flows.use(
    sequence<BotContext>([
      menuAliases(kit),
      conversations<BotContext, FlowContext>({
        storage: { type: 'key', version: FLOWS_VERSION, adapter: flowStorage, getStorageKey: chatKeyOf },
        // Conversations build their own Api; it shares the client's retrying fetch (api-retry.ts),
        // so a 429 inside a flow (the menu right after a login) is waited out there too.
        plugins: [attachChannel(channel)],
      }),
      registerFlowsWhenNeeded([
        createConversation(createContactLoginConversation(kit), CONTACT_LOGIN_CONVERSATION),
        ...(deps.phoneLogin ? [createConversation(deps.phoneLogin.create(kit), deps.phoneLogin.id)] : []),
        createConversation(createProfileFieldConversation(kit), PROFILE_FIELD_CONVERSATION),
        createConversation(createAddressFormConversation(kit), ADDRESS_FORM_CONVERSATION),
        createConversation(createProductSearchConversation(kit), PRODUCT_SEARCH_CONVERSATION),
        createConversation(createSupportRequestConversation(kit), SUPPORT_REQUEST_CONVERSATION),
      ]),
      createStartFeature(kit),
      createContactFeature(kit),
      createOrdersFeature(kit),
      createWishlistFeature(kit),
      createLoyaltyFeature(kit),
      createProfileFeature(kit),
      createAddressesFeature(kit),
      createHelpFeature(kit),
      createSupportFeature(kit),
      createUnhandledFeature(kit),
    ]),
  );

  return { bot, chatLock, services, keyPrefix, readPrefixes };
}

/**
 * The flows' registrations (createConversation middleware), run on the updates that need them.
 * The plugin's model registers every flow on every update: a middleware per flow, each four
 * promises and a dozen objects (~1.4 KB), only for `ctx.conversation.enter` to find the flow by
 * name later. Most updates meet a chat with no flow under way (menus, buttons, commands): there
 * nothing is resumed, so the registrations are made only when a handler enters a flow, just
 * before it does (each registration, with no flow of its name under way, registers and passes
 * on: its documented behaviour). A chat with a flow under way goes through them as before, so
 * the flow gets its update first.
 */
export function registerFlowsWhenNeeded(registrations: MiddlewareFn<BotContext>[]): MiddlewareFn<BotContext> {
  const resumeOrPass = sequence(registrations);
  const passOn = () => Promise.resolve();
  return async (ctx, next) => {
    const control = ctx.conversation;
    if (Object.keys(control.active()).length > 0) return resumeOrPass(ctx, next);
    const enter = control.enter;
    let registered = false;
    control.enter = async (name, ...args) => {
      if (!registered) {
        registered = true;
        for (const register of registrations) await register(ctx, passOn);
      }
      return enter.call(control, name, ...args);
    };
    return next();
  };
}

function attachChannel(channel: Channel): MiddlewareFn<FlowContext> {
  return (ctx, next) => {
    ctx.channel = channel;
    return next();
  };
}

/**
 * Who is writing: the messenger account (created at first contact, with the platform's
 * language), its customer after login, and the language replies use. The customer bot
 * works in private chats only; anything else is ignored. A "kicked" my_chat_member update
 * marks the identity blocked so notifications stop.
 */
function identify(deps: CustomerBotDeps, services: CustomerBotServices, cache: IdentityCache): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    const from = ctx.from;
    if (!from || from.is_bot || ctx.chat?.type !== 'private') return;
    const status = ctx.myChatMember?.new_chat_member.status;
    if (status === 'kicked') {
      await services.identities.markBlocked(deps.channel.platform, String(from.id));
      return;
    }
    const chat = String(ctx.chat.id);
    // The names touch() compares, as a digest: what is kept in Redis names nobody.
    const seen = hash('sha256', JSON.stringify([chat, from.username ?? null, from.first_name ?? null, from.last_name ?? null]), 'base64url');
    const kept = cache.cached(chat);
    // Kept for this person under the same names: PostgreSQL is not asked (touch() would at most
    // refresh lastSeenAt). A chat-member change (unblocked) always goes there, clearing blockedAt.
    let identity: IdentityDto | undefined =
      kept && !ctx.myChatMember && kept.dto.externalId === String(from.id) && kept.dto.platform === deps.channel.platform && kept.seen === seen ? kept.dto : undefined;
    if (!identity) {
      identity = await services.identities.touch({
        platform: deps.channel.platform,
        externalId: String(from.id),
        chatId: chat,
        username: from.username,
        firstName: from.first_name,
        lastName: from.last_name,
        languageCode: from.language_code,
      });
      await cache.keep(chat, { dto: identity, seen });
    }
    if (ctx.myChatMember) return;
    const lang = deps.translator.resolveLanguage(identity.language ?? from.language_code);
    ctx.channel = deps.channel;
    ctx.account = { identityId: identity.identityId, customerId: identity.customerId, language: lang };
    ctx.lang = lang;
    ctx.t = deps.translator.t(lang);
    const id = identity.identityId;
    cache.running.set(id, chat);
    try {
      await next();
    } finally {
      if (cache.running.get(id) === chat) cache.running.delete(id);
    }
  };
}

/** The identity identify() found for a chat (ids and language), with a digest of the names it was seen under. */
interface CachedIdentity {
  dto: IdentityDto;
  seen: string;
}

interface IdentityCache {
  /** The chat's identity as kept (read with the chat lock), if any. */
  cached(chat: string): CachedIdentity | undefined;
  keep(chat: string, entry: CachedIdentity): Promise<void>;
  /** The chat each identity's update runs in now (set while the rest of the update runs). */
  running: Map<string, string>;
}

/**
 * The services the bot's features and flows call, with every identities call that changes who
 * a chat is (login, owner confirmation, logout, language, blocked) dropping the identity
 * identify() keeps for the chat being handled.
 */
export function forgettingIdentity(services: CustomerBotServices, forget: (who: IdentityRef) => Promise<void>): CustomerBotServices {
  const identities = services.identities;
  // The identity kept is dropped BEFORE the call: if Redis is down the call is never made, so a
  // retry of the update runs it whole (a login committed in PostgreSQL and then failing on the
  // cache would come back on the retry as "already linked": no "account created", no consent
  // question). Nothing keeps it again in between: the chat lock runs the chat's updates one by
  // one and the identity is read at the start of the next one.
  const then =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>, who: (...args: A) => IdentityRef) =>
    async (...args: A): Promise<R> => {
      await forget(who(...args));
      return call(...args);
    };
  const byId = (identityId: string, ..._rest: unknown[]) => ({ identityId });
  return {
    ...services,
    identities: {
      ...identities,
      loginWithPhone: then(identities.loginWithPhone.bind(identities), byId),
      confirmOwner: then(identities.confirmOwner.bind(identities), byId),
      logout: then(identities.logout.bind(identities), byId),
      setLanguage: then(identities.setLanguage.bind(identities), byId),
      markBlocked: then(identities.markBlocked.bind(identities), (platform, externalId) => ({ platform, externalId })),
    },
  };
}

/** Whose identity an identities call changes: by its id, or by its messenger account. */
export type IdentityRef = { identityId: string } | { platform: string; externalId: string };

/** Every button press gets an answer (the client shows a spinner until then), once. */
const autoAnswerCallbacks: MiddlewareFn<BotContext> = async (ctx, next) => {
  if (!ctx.callbackQuery) return next();
  let answered = false;
  const original = ctx.answerCallbackQuery.bind(ctx);
  ctx.answerCallbackQuery = (...args: Parameters<typeof original>) => {
    if (answered) return Promise.resolve(true);
    answered = true;
    return original(...args);
  };
  try {
    await next();
  } finally {
    if (!answered) await original().catch(() => undefined);
  }
};

export type { PendingAction };
