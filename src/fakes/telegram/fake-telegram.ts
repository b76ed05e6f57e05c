import { EventEmitter } from 'node:events';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { UpdateDelivery } from './delivery.js';
import type { WebhookRetryOptions } from './delivery.js';
import { detectCommands } from './entities.js';
import { badRequest, notFound, TelegramApiError, unauthorized } from './errors.js';
import { Described, LOWERCASE_METHODS, mediaOf, type MediaKind } from './methods.js';
import type { MethodContext } from './methods.js';
import { Params } from './params.js';
import { createRateLimiter, DEFAULT_RATE_LIMITS } from './rate-limiter.js';
import type { RateLimitConfig } from './rate-limiter.js';
import { parseMultipart, parseUrlEncoded } from './request-body.js';
import type { ParsedBody, UploadedPart } from './request-body.js';
import { World } from './state.js';
import type { BotRecord, CallRecord, ChatEvent, ChatLog, MemberStatus, StoredMessage, UserRecord } from './state.js';
import type { TgChat, TgChatMember, TgForumTopic, TgMessage, TgMessageOrigin, TgReplyMarkup, TgUpdate, TgUser } from './types.js';

export interface FakeTelegramOptions {
  /** Clock for dates, rate limits and callback query expiry (ms since epoch). Default Date.now. */
  now?: () => number;
  /** `false` switches rate limiting off; a partial object overrides the defaults. */
  rateLimits?: false | Partial<RateLimitConfig>;
  /** Webhook retry policy; tests use a few ms. */
  webhookRetry?: Partial<WebhookRetryOptions>;
  /** How long a callback query can be answered. Default 15 000 ms. */
  callbackQueryTimeoutMs?: number;
  /** A bot may write to a person only after the person wrote to it (Telegram's rule). Default true. */
  requireStart?: boolean;
  /** Keep every API call for `calls()`. Turn off in long benchmarks to save memory. Default true. */
  recordCalls?: boolean;
  /** Fastify logger. Default off: no logging per request. */
  logger?: boolean;
  /**
   * Every Bot API answer leaves this long after the call was handled (the call takes effect at
   * once, and rate limits count it then), as a real server's round trip from a shop's server
   * (20–80 ms). Default 0.
   */
  apiLatencyMs?: number;
}

export interface BotInfo {
  id: number;
  token: string;
  username: string;
  firstName: string;
  user: TgUser;
}

export interface CreateUserInput {
  id?: number;
  firstName: string;
  lastName?: string;
  username?: string;
  languageCode?: string;
  phone?: string;
}

export type GroupMember = number | { id: number; status: MemberStatus };

export interface CreateGroupInput {
  id?: number;
  title: string;
  username?: string;
  isForum?: boolean;
  /** User ids and bot ids (BotInfo.id). Bots join as administrators, people as members, unless given. */
  members: GroupMember[];
}

export interface MessageOptions {
  /** A group the user writes in; default the private chat with the bot. */
  chatId?: number;
  /** Forum topic (message_thread_id). */
  threadId?: number;
  replyToMessageId?: number;
  /**
   * Makes the message a forward (Bot API 7.0+ `forward_origin`), as if the person forwarded it
   * from another chat: e.g. `{ type: 'user', date, sender_user }` for someone's contact card.
   */
  forwardOrigin?: TgMessageOrigin;
}

export interface ContactInput {
  phone: string;
  firstName: string;
  lastName?: string;
  /**
   * Absent: the user's own contact (user_id = sender). Present and undefined: a contact without
   * user_id (typed by hand). Another id: someone else's contact.
   */
  userId?: number | undefined;
}

export interface FailOptions {
  errorCode: number;
  description: string;
  retryAfter?: number;
  /** Default 1. */
  times?: number;
  /** Only calls whose chat_id equals this. */
  chatId?: number;
}

export interface ChatEntry {
  messageId: number;
  direction: 'in' | 'out';
  from: TgUser | undefined;
  text: string | undefined;
  caption: string | undefined;
  /** reply_markup as the bot sent it (reply keyboards included). */
  replyMarkup: TgReplyMarkup | undefined;
  threadId: number | undefined;
  message: TgMessage;
}

export interface WaitOptions {
  /** Default 5 000 ms. */
  timeoutMs?: number;
}

export interface FakeTelegram {
  readonly app: FastifyInstance;
  /** API root after listen(), e.g. http://127.0.0.1:PORT. */
  readonly apiRoot: string | undefined;
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;

  createBot(input: { token: string; username: string; firstName?: string }): BotInfo;
  createUser(input: CreateUserInput): TgUser;
  createGroup(input: CreateGroupInput): TgChat;
  setMemberStatus(groupId: number, userId: number, status: MemberStatus): void;
  createForumTopic(groupId: number, input: { name: string; iconColor?: number }): TgForumTopic;

  sendText(token: string, userId: number, text: string, options?: MessageOptions): TgUpdate;
  sendContact(token: string, userId: number, contact: ContactInput, options?: MessageOptions): TgUpdate;
  sendPhoto(token: string, userId: number, options?: MessageOptions & { caption?: string; data?: Buffer }): TgUpdate;
  /** A file of another kind (document, voice, sticker, ...), as the person sends it. */
  sendFile(token: string, userId: number, kind: 'document' | MediaKind, options?: MessageOptions & { caption?: string; data?: Buffer; fileName?: string; mimeType?: string }): TgUpdate;
  startWithPayload(token: string, userId: number, payload: string): TgUpdate;
  pressButton(token: string, userId: number, messageId: number, callbackData: string, options?: { chatId?: number; force?: boolean }): TgUpdate;
  blockBot(token: string, userId: number): TgUpdate | undefined;
  unblockBot(token: string, userId: number): TgUpdate | undefined;

  failNext(token: string, method: string, options: FailOptions): void;
  /** The next `times` webhook deliveries count as failed (500), without calling the endpoint. */
  failWebhook(token: string, times?: number): void;

  calls(token?: string): CallRecord[];
  chat(token: string, chatId: number): ChatEntry[];
  lastBotMessage(token: string, chatId: number): TgMessage | undefined;
  callbackAnswer(token: string, callbackQueryId: string): Record<string, unknown> | undefined;
  pendingUpdateCount(token: string): number;
  /** Webhook delivery counters: successful deliveries, failed attempts, the last error text. */
  deliveryStats(token: string): { delivered: number; failedAttempts: number; lastError: string | undefined };
  /** A getUpdates long poll of the bot is waiting right now. */
  isLongPolling(token: string): boolean;
  waitFor(predicate: () => boolean, options?: WaitOptions): Promise<void>;
  waitForCalls(token: string, method: string, count?: number, options?: WaitOptions): Promise<CallRecord[]>;
  /** Resolves when every queued update of the bot has been delivered (or confirmed by getUpdates). */
  waitForDelivery(token: string, options?: WaitOptions): Promise<void>;
  onCall(listener: (call: CallRecord) => void): () => void;
  /**
   * Bot API requests being answered right now (all bots), and the most at once since the last
   * reset: how many calls a client keeps in flight (with apiLatencyMs, its parallelism).
   */
  apiConcurrency(options?: { resetPeak?: boolean }): { inFlight: number; peak: number };
  onChatMessage(listener: (event: ChatEvent) => void): () => void;
  reset(): void;
  /** Forgets every chat's messages (a fresh start for a demo); bots, users, groups and webhooks stay. */
  clearChats(): void;
}

const API_PATH = /^\/bot([^/]+)\/(?:test\/)?([A-Za-z0-9_]+)\/?$/;
const FILE_PATH = /^\/file\/bot([^/]+)\/(.+)$/;
const JSON_FIELDS = new Set([
  'reply_markup',
  'entities',
  'caption_entities',
  'media',
  'commands',
  'scope',
  'allowed_updates',
  'message_ids',
  'reply_parameters',
  'link_preview_options',
  'menu_button',
]);
const INT_FIELDS = new Set(['chat_id', 'from_chat_id', 'message_id', 'user_id', 'message_thread_id', 'offset', 'limit', 'timeout', 'max_connections', 'icon_color', 'cache_time']);
const BOOL_FIELDS = new Set(['drop_pending_updates', 'allow_paid_broadcast', 'disable_notification', 'protect_content', 'show_alert', 'has_spoiler']);

/** Form and query values are strings; record them as JSON clients would send them. */
function normalizeFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value !== 'string') {
      out[key] = value;
    } else if (JSON_FIELDS.has(key)) {
      try {
        out[key] = JSON.parse(value) as unknown;
      } catch {
        out[key] = value;
      }
    } else if (INT_FIELDS.has(key) && /^-?\d{1,16}$/.test(value)) {
      out[key] = Number(value);
    } else if (BOOL_FIELDS.has(key) && (value === 'true' || value === 'false')) {
      out[key] = value === 'true';
    } else {
      out[key] = value;
    }
  }
  return out;
}

const EMPTY_FILES: ReadonlyMap<string, UploadedPart> = new Map();

export function createFakeTelegram(options: FakeTelegramOptions = {}): FakeTelegram {
  const now = options.now ?? Date.now;
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const world = new World(now, events, options.requireStart ?? true);
  const limiter = createRateLimiter(now);
  const limits: RateLimitConfig =
    options.rateLimits === false ? { ...DEFAULT_RATE_LIMITS, enabled: false } : { ...DEFAULT_RATE_LIMITS, ...options.rateLimits };
  const retry: WebhookRetryOptions = { baseDelayMs: 250, maxDelayMs: 10_000, maxAttempts: 10, timeoutMs: 60_000, ...options.webhookRetry };
  const callbackQueryTimeoutMs = options.callbackQueryTimeoutMs ?? 15_000;
  const recordCalls = options.recordCalls ?? true;
  const allCalls: CallRecord[] = [];
  let apiRoot: string | undefined;

  const requireBot = (token: string): BotRecord => {
    const bot = world.bots.get(token);
    if (bot === undefined) throw new Error(`fake telegram: unknown bot token ${token.slice(0, 12)}…`);
    return bot;
  };
  const requireUser = (userId: number): UserRecord => {
    const user = world.users.get(userId);
    if (user === undefined) throw new Error(`fake telegram: unknown user ${userId}`);
    return user;
  };

  async function call(
    token: string,
    methodName: string,
    fields: Record<string, unknown>,
    files: ReadonlyMap<string, UploadedPart>,
    onAbort: (cb: () => void) => void,
    viaWebhookReply: boolean,
  ): Promise<{ status: number; body: CallRecord['response'] }> {
    const bot = world.bots.get(token);
    if (bot === undefined) return { status: 401, body: unauthorized().toJSON() as CallRecord['response'] };
    const entry = LOWERCASE_METHODS.get(methodName.toLowerCase());
    const params = new Params(fields, files);
    let status = 200;
    let body: CallRecord['response'];
    try {
      if (entry === undefined) throw notFound();
      injectedFailure(bot, entry.name, params);
      const ctx: MethodContext = { world, bot, params, limiter, limits, callbackQueryTimeoutMs, onAbort };
      let result = entry.handler(ctx);
      if (result instanceof Promise) result = (await result) as unknown;
      body = result instanceof Described ? { ok: true, result: result.result, description: result.description } : { ok: true, result };
    } catch (error) {
      if (!(error instanceof TelegramApiError)) throw error;
      status = error.errorCode;
      body = error.toJSON() as CallRecord['response'];
    }
    const method = entry?.name ?? methodName;
    const key = method.toLowerCase();
    bot.callCounts.set(key, (bot.callCounts.get(key) ?? 0) + 1);
    const record: CallRecord = { token, method, params: fields, files: [...files.keys()], status, response: body, at: now(), viaWebhookReply };
    if (recordCalls) {
      bot.calls.push(record);
      allCalls.push(record);
    }
    if (events.listenerCount('call') > 0) events.emit('call', record);
    events.emit('change');
    return { status, body };
  }

  function injectedFailure(bot: BotRecord, method: string, params: Params): void {
    if (bot.failures.length === 0) return;
    const lower = method.toLowerCase();
    const index = bot.failures.findIndex((rule) => {
      if (rule.method !== '*' && rule.method !== lower) return false;
      if (rule.chatId === undefined) return true;
      return params.has('chat_id') && Number(params.str('chat_id')) === rule.chatId;
    });
    const rule = bot.failures[index];
    if (rule === undefined) return;
    rule.remaining -= 1;
    if (rule.remaining <= 0) bot.failures.splice(index, 1);
    throw new TelegramApiError(rule.errorCode, rule.description, rule.retryAfter === undefined ? undefined : { retry_after: rule.retryAfter });
  }

  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 50 * 1024 * 1024, forceCloseConnections: true });
  app.removeAllContentTypeParsers();
  const parseJsonOrForm = (text: string): ParsedBody => {
    const trimmed = text.trim();
    if (trimmed === '') return { fields: {}, files: new Map() };
    if (trimmed.startsWith('{')) {
      const parsed = JSON.parse(trimmed) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badRequest("can't parse JSON object");
      return { fields: parsed as Record<string, unknown>, files: new Map() };
    }
    return { fields: parseUrlEncoded(trimmed), files: new Map() };
  };
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonOrForm(String(body)));
    } catch {
      done(null, { fields: {}, files: new Map(), invalid: true });
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, { fields: parseUrlEncoded(String(body)), files: new Map() });
  });
  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (req, body, done) => {
    done(null, parseMultipart(body as Buffer, req.headers['content-type'] ?? ''));
  });
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonOrForm(String(body)));
    } catch {
      done(null, { fields: {}, files: new Map(), invalid: true });
    }
  });

  const apiLatencyMs = Math.max(0, options.apiLatencyMs ?? 0);
  let apiInFlight = 0;
  let apiPeak = 0;
  app.route({
    method: ['GET', 'POST'],
    url: '/*',
    handler: async (request, reply) => {
      const q = request.url.indexOf('?');
      const path = q < 0 ? request.url : request.url.slice(0, q);
      const api = API_PATH.exec(path);
      if (api !== null) {
        const token = decodeURIComponent(api[1] ?? '');
        const body = request.body as (ParsedBody & { invalid?: boolean }) | undefined;
        if (body?.invalid === true) {
          return reply.code(400).type('application/json').send(JSON.stringify(badRequest("can't parse JSON object").toJSON()));
        }
        const query = (request.query ?? {}) as Record<string, unknown>;
        const fields = normalizeFields({ ...query, ...body?.fields });
        const aborts: Array<() => void> = [];
        reply.raw.on('close', () => {
          if (!reply.raw.writableFinished) for (const cb of aborts) cb();
        });
        apiInFlight += 1;
        apiPeak = Math.max(apiPeak, apiInFlight);
        try {
          const result = await call(token, api[2] ?? '', fields, body?.files ?? EMPTY_FILES, (cb) => aborts.push(cb), false);
          if (apiLatencyMs > 0) await new Promise((r) => setTimeout(r, apiLatencyMs));
          return reply.code(result.status).type('application/json').send(JSON.stringify(result.body));
        } finally {
          apiInFlight -= 1;
        }
      }
      const file = FILE_PATH.exec(path);
      if (file !== null && world.bots.has(decodeURIComponent(file[1] ?? ''))) {
        const record = world.filesByPath.get(decodeURIComponent(file[2] ?? ''));
        if (record !== undefined) return reply.code(200).type(record.mimeType ?? 'application/octet-stream').send(record.data);
      }
      return reply.code(404).type('application/json').send(JSON.stringify(notFound().toJSON()));
    },
  });

  const chatKeyOf = (log: ChatLog): string => log.key;
  const chatInstance = (bot: BotRecord, log: ChatLog): string => {
    let hash = 7;
    for (const ch of `${bot.user.id}|${log.key}`) hash = (hash * 31 + ch.charCodeAt(0)) | 0;
    return String(Math.abs(hash) * 1000 + 17);
  };
  const member = (user: TgUser, status: MemberStatus): TgChatMember => (status === 'kicked' ? { status, user, until_date: 0 } : { status, user });

  function userMessage(token: string, userId: number, body: Partial<TgMessage>, opts: MessageOptions = {}): TgUpdate {
    const bot = requireBot(token);
    const user = requireUser(userId);
    let log: ChatLog;
    const extra: Partial<TgMessage> = {};
    if (opts.chatId === undefined || opts.chatId === userId) {
      // Writing to a blocked bot means pressing "Restart" first.
      if (bot.blockedBy.has(userId)) unblock(bot, user);
      bot.startedBy.add(userId);
      log = world.privateLog(bot, user);
    } else {
      const group = world.groups.get(opts.chatId);
      if (group === undefined) throw new Error(`fake telegram: unknown group ${opts.chatId}`);
      const status = group.members.get(userId);
      if (status === undefined || status === 'left' || status === 'kicked') {
        throw new Error(`fake telegram: user ${userId} is not a member of ${opts.chatId}`);
      }
      log = world.groupLog(group);
      if (opts.threadId !== undefined) {
        if (group.chat.is_forum === true && !group.topics.has(opts.threadId)) {
          throw new Error(`fake telegram: no topic ${opts.threadId} in ${opts.chatId}`);
        }
        extra.message_thread_id = opts.threadId;
        if (group.chat.is_forum === true) extra.is_topic_message = true;
      }
    }
    if (opts.forwardOrigin !== undefined) extra.forward_origin = opts.forwardOrigin;
    if (opts.replyToMessageId !== undefined) {
      const replied = log.messages.get(opts.replyToMessageId);
      if (replied !== undefined) extra.reply_to_message = replied.message;
    }
    const stored = world.append(log, { ...extra, from: user.user, ...body }, 'in', bot, undefined);
    return world.emitUpdate(bot, { message: stored.message }, chatKeyOf(log));
  }

  /** The my_chat_member update Telegram sends when a person blocks or unblocks the bot. */
  function memberChange(bot: BotRecord, user: UserRecord, from: MemberStatus, to: MemberStatus): TgUpdate {
    const log = world.privateLog(bot, user);
    return world.emitUpdate(
      bot,
      {
        my_chat_member: {
          chat: log.chat,
          from: user.user,
          date: world.nowSeconds(),
          old_chat_member: member(bot.user, from),
          new_chat_member: member(bot.user, to),
        },
      },
      log.key,
    );
  }

  function block(bot: BotRecord, user: UserRecord): TgUpdate {
    bot.blockedBy.add(user.user.id);
    return memberChange(bot, user, 'member', 'kicked');
  }

  function unblock(bot: BotRecord, user: UserRecord): TgUpdate {
    bot.blockedBy.delete(user.user.id);
    bot.startedBy.add(user.user.id);
    return memberChange(bot, user, 'kicked', 'member');
  }

  function waitFor(predicate: () => boolean, opts: WaitOptions = {}, describe = 'condition'): Promise<void> {
    if (predicate()) return Promise.resolve();
    const timeoutMs = opts.timeoutMs ?? 5_000;
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        let done: boolean;
        try {
          done = predicate();
        } catch (error) {
          cleanup();
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        if (done) {
          cleanup();
          resolve();
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`fake telegram: timed out after ${timeoutMs} ms waiting for ${describe}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        events.off('change', check);
      };
      events.on('change', check);
    });
  }

  const toEntry = (stored: StoredMessage): ChatEntry => ({
    messageId: stored.message.message_id,
    direction: stored.direction,
    from: stored.message.from,
    text: stored.message.text,
    caption: stored.message.caption,
    replyMarkup: stored.markup,
    threadId: stored.message.message_thread_id,
    message: stored.message,
  });

  const fake: FakeTelegram = {
    app,
    get apiRoot() {
      return apiRoot;
    },

    async listen(port = 0, host = '127.0.0.1') {
      const address = await app.listen({ port, host });
      apiRoot = address.replace('://localhost', '://127.0.0.1');
      return apiRoot;
    },

    async close() {
      for (const bot of world.bots.values()) bot.delivery.close();
      await app.close();
    },

    createBot({ token, username, firstName }) {
      if (world.bots.has(token)) throw new Error('fake telegram: bot token already registered');
      const prefix = Number(token.split(':')[0]);
      const id = Number.isSafeInteger(prefix) && prefix > 0 ? prefix : world.nextUserId();
      const user: TgUser = { id, is_bot: true, first_name: firstName ?? username, username };
      const bot: BotRecord = {
        token,
        user,
        nextUpdateId: 1,
        startedBy: new Set(),
        blockedBy: new Set(),
        callbackQueries: new Map(),
        commands: new Map(),
        menuButtons: new Map(),
        delivery: new UpdateDelivery(retry, {
          now,
          onChange: () => events.emit('change'),
          onWebhookReply: (body) => {
            const { method, ...rest } = body;
            void call(token, String(method), rest, EMPTY_FILES, () => undefined, true);
          },
        }),
        calls: [],
        callCounts: new Map(),
        failures: [],
      };
      world.bots.set(token, bot);
      world.botsById.set(id, bot);
      return { id, token, username, firstName: user.first_name, user };
    },

    createUser(input) {
      const id = input.id ?? world.nextUserId();
      if (world.users.has(id) || world.botsById.has(id)) throw new Error(`fake telegram: user ${id} exists`);
      const user: TgUser = { id, is_bot: false, first_name: input.firstName };
      if (input.lastName !== undefined) user.last_name = input.lastName;
      if (input.username !== undefined) user.username = input.username;
      if (input.languageCode !== undefined) user.language_code = input.languageCode;
      world.users.set(id, { user, phone: input.phone });
      return user;
    },

    createGroup(input) {
      const id = input.id ?? world.nextGroupId();
      if (id >= 0) throw new Error('fake telegram: group ids are negative');
      const chat: TgChat = { id, type: 'supergroup', title: input.title };
      if (input.username !== undefined) chat.username = input.username;
      if (input.isForum === true) chat.is_forum = true;
      const members = new Map<number, MemberStatus>();
      for (const m of input.members) {
        const memberId = typeof m === 'number' ? m : m.id;
        const isBot = world.botsById.has(memberId);
        if (!isBot && !world.users.has(memberId)) throw new Error(`fake telegram: unknown member ${memberId}`);
        members.set(memberId, typeof m === 'number' ? (isBot ? 'administrator' : 'member') : m.status);
      }
      world.groups.set(id, { chat, members, topics: new Map() });
      return chat;
    },

    setMemberStatus(groupId, userId, status) {
      const group = world.groups.get(groupId);
      if (group === undefined) throw new Error(`fake telegram: unknown group ${groupId}`);
      group.members.set(userId, status);
    },

    createForumTopic(groupId, input) {
      const group = world.groups.get(groupId);
      if (group?.chat.is_forum !== true) throw new Error(`fake telegram: ${groupId} is not a forum`);
      const log = world.groupLog(group);
      const threadId = log.nextMessageId;
      const iconColor = input.iconColor ?? 0x6fb9f0;
      group.topics.set(threadId, { threadId, name: input.name, iconColor, iconCustomEmojiId: undefined, closed: false });
      const stored: StoredMessage = {
        message: {
          message_id: threadId,
          message_thread_id: threadId,
          is_topic_message: true,
          date: world.nowSeconds(),
          chat: log.chat,
          forum_topic_created: { name: input.name, icon_color: iconColor },
        },
        direction: 'in',
        botId: undefined,
        markup: undefined,
      };
      log.nextMessageId += 1;
      log.messages.set(threadId, stored);
      world.emitChat('new', log, stored, undefined);
      return { message_thread_id: threadId, name: input.name, icon_color: iconColor };
    },

    sendText(token, userId, text, opts) {
      const entities = detectCommands(text);
      return userMessage(token, userId, entities.length > 0 ? { text, entities } : { text }, opts);
    },

    sendContact(token, userId, contact, opts) {
      const body: NonNullable<TgMessage['contact']> = { phone_number: contact.phone, first_name: contact.firstName };
      if (contact.lastName !== undefined) body.last_name = contact.lastName;
      const contactUserId = 'userId' in contact ? contact.userId : userId;
      if (contactUserId !== undefined) body.user_id = contactUserId;
      return userMessage(token, userId, { contact: body }, opts);
    },

    sendPhoto(token, userId, opts = {}) {
      const data = opts.data ?? Buffer.from(`fake-photo-${userId}-${now()}`);
      const main = world.addFile(data, 'photos', undefined, 'image/jpeg');
      const thumb = world.addFile(data.subarray(0, 256), 'thumbnails', undefined, 'image/jpeg');
      const body: Partial<TgMessage> = {
        photo: [
          { file_id: thumb.fileId, file_unique_id: thumb.uniqueId, width: 90, height: 90, file_size: thumb.data.length },
          { file_id: main.fileId, file_unique_id: main.uniqueId, width: 1280, height: 960, file_size: main.data.length },
        ],
      };
      if (opts.caption !== undefined) body.caption = opts.caption;
      return userMessage(token, userId, body, opts);
    },

    sendFile(token, userId, kind, opts = {}) {
      const data = opts.data ?? Buffer.from(`fake-${kind}-${userId}-${now()}`);
      const file = world.addFile(data, `${kind}s`, opts.fileName, opts.mimeType);
      const body: Partial<TgMessage> = kind === 'document' ? { document: { file_id: file.fileId, file_unique_id: file.uniqueId, file_size: data.length, ...(opts.fileName ? { file_name: opts.fileName } : {}), ...(opts.mimeType ? { mime_type: opts.mimeType } : {}) } } : mediaOf(kind, file);
      if (opts.caption !== undefined && kind !== 'sticker' && kind !== 'video_note') body.caption = opts.caption;
      return userMessage(token, userId, body, opts);
    },

    startWithPayload(token, userId, payload) {
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(payload)) throw new Error('fake telegram: deep link payload must be 1-64 of A-Za-z0-9_-');
      return fake.sendText(token, userId, `/start ${payload}`);
    },

    pressButton(token, userId, messageId, callbackData, opts = {}) {
      const bot = requireBot(token);
      const user = requireUser(userId);
      const log = world.findLog(bot, opts.chatId ?? userId);
      const stored = log?.messages.get(messageId);
      if (log === undefined || stored === undefined) throw new Error(`fake telegram: no message ${messageId} in chat ${opts.chatId ?? userId}`);
      if (opts.force !== true) {
        const found = stored.message.reply_markup?.inline_keyboard.some((row) => row.some((b) => b.callback_data === callbackData));
        if (found !== true) throw new Error(`fake telegram: message ${messageId} has no button with callback_data "${callbackData}"`);
      }
      const id = world.nextCallbackId();
      bot.callbackQueries.set(id, { createdAt: now(), answered: false, answer: undefined });
      return world.emitUpdate(
        bot,
        { callback_query: { id, from: user.user, message: stored.message, chat_instance: chatInstance(bot, log), data: callbackData } },
        log.key,
      );
    },

    blockBot(token, userId) {
      const bot = requireBot(token);
      const user = requireUser(userId);
      return bot.blockedBy.has(userId) ? undefined : block(bot, user);
    },

    unblockBot(token, userId) {
      const bot = requireBot(token);
      const user = requireUser(userId);
      return bot.blockedBy.has(userId) ? unblock(bot, user) : undefined;
    },

    failNext(token, method, opts) {
      requireBot(token).failures.push({
        method: method.toLowerCase(),
        errorCode: opts.errorCode,
        description: opts.description,
        retryAfter: opts.retryAfter,
        remaining: opts.times ?? 1,
        chatId: opts.chatId,
      });
    },

    failWebhook(token, times = 1) {
      requireBot(token).delivery.failWebhook(times);
    },

    calls(token) {
      return token === undefined ? [...allCalls] : [...requireBot(token).calls];
    },

    chat(token, chatId) {
      const log = world.findLog(requireBot(token), chatId);
      return log === undefined ? [] : [...log.messages.values()].map(toEntry);
    },

    lastBotMessage(token, chatId) {
      const bot = requireBot(token);
      const log = world.findLog(bot, chatId);
      if (log === undefined) return undefined;
      const messages = [...log.messages.values()];
      for (let i = messages.length - 1; i >= 0; i -= 1) {
        const stored = messages[i];
        if (stored !== undefined && stored.direction === 'out' && stored.botId === bot.user.id) return stored.message;
      }
      return undefined;
    },

    callbackAnswer(token, callbackQueryId) {
      return requireBot(token).callbackQueries.get(callbackQueryId)?.answer;
    },

    pendingUpdateCount(token) {
      return requireBot(token).delivery.pendingCount;
    },

    deliveryStats(token) {
      const { delivery } = requireBot(token);
      return { delivered: delivery.deliveredCount, failedAttempts: delivery.failedAttempts, lastError: delivery.lastErrorMessage };
    },

    isLongPolling(token) {
      return requireBot(token).delivery.isLongPolling;
    },

    waitFor(predicate, opts) {
      return waitFor(predicate, opts);
    },

    async waitForCalls(token, method, count = 1, opts) {
      const bot = requireBot(token);
      const key = method.toLowerCase();
      await waitFor(() => (bot.callCounts.get(key) ?? 0) >= count, opts, `${count} ${method} call(s)`);
      return bot.calls.filter((c) => c.method.toLowerCase() === key);
    },

    waitForDelivery(token, opts) {
      const bot = requireBot(token);
      return waitFor(() => bot.delivery.pendingCount === 0, opts, 'update delivery');
    },

    onCall(listener) {
      events.on('call', listener);
      return () => events.off('call', listener);
    },

    apiConcurrency(opts = {}) {
      const figures = { inFlight: apiInFlight, peak: apiPeak };
      if (opts.resetPeak) apiPeak = apiInFlight;
      return figures;
    },

    onChatMessage(listener) {
      events.on('chat', listener);
      return () => events.off('chat', listener);
    },

    clearChats() {
      world.logs.clear();
      events.emit('change');
    },

    reset() {
      for (const bot of world.bots.values()) bot.delivery.close();
      world.bots.clear();
      world.botsById.clear();
      world.users.clear();
      world.groups.clear();
      world.logs.clear();
      world.files.clear();
      world.filesByPath.clear();
      allCalls.length = 0;
      limiter.reset();
      events.emit('change');
    },
  };
  return fake;
}
