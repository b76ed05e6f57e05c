import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { UpdateDelivery } from './delivery.js';
import { badRequest, ERRORS, forbidden } from './errors.js';
import type { TgBotCommand, TgChat, TgChatMember, TgMessage, TgReplyMarkup, TgUpdate, TgUser } from './types.js';

export type MemberStatus = TgChatMember['status'];

export interface CallRecord {
  token: string;
  method: string;
  params: Record<string, unknown>;
  /** Names of uploaded multipart files, by field. */
  files: string[];
  status: number;
  response: { ok: boolean; result?: unknown; error_code?: number; description?: string; parameters?: unknown };
  /** ms since epoch on the fake's clock. */
  at: number;
  viaWebhookReply: boolean;
}

export interface FailRule {
  method: string;
  errorCode: number;
  description: string;
  retryAfter: number | undefined;
  remaining: number;
  chatId: number | undefined;
}

export interface CallbackQueryRecord {
  createdAt: number;
  answered: boolean;
  answer: Record<string, unknown> | undefined;
}

export interface BotRecord {
  token: string;
  user: TgUser;
  nextUpdateId: number;
  /** Users who opened the private chat (a bot cannot write first). */
  startedBy: Set<number>;
  blockedBy: Set<number>;
  callbackQueries: Map<string, CallbackQueryRecord>;
  commands: Map<string, TgBotCommand[]>;
  menuButtons: Map<string, unknown>;
  delivery: UpdateDelivery;
  calls: CallRecord[];
  callCounts: Map<string, number>;
  failures: FailRule[];
}

export interface UserRecord {
  user: TgUser;
  phone: string | undefined;
}

export interface TopicRecord {
  threadId: number;
  name: string;
  iconColor: number;
  iconCustomEmojiId: string | undefined;
  closed: boolean;
}

export interface GroupRecord {
  chat: TgChat;
  members: Map<number, MemberStatus>;
  topics: Map<number, TopicRecord>;
}

export interface StoredMessage {
  message: TgMessage;
  /** 'in': written by a person; 'out': sent by a bot. */
  direction: 'in' | 'out';
  /** The bot that sent it ('out') or the bot that received it in a private chat. */
  botId: number | undefined;
  /** reply_markup as sent, including reply keyboards that Message objects do not show. */
  markup: TgReplyMarkup | undefined;
}

export interface ChatLog {
  key: string;
  chat: TgChat;
  nextMessageId: number;
  messages: Map<number, StoredMessage>;
}

export interface FileRecord {
  fileId: string;
  uniqueId: string;
  path: string;
  data: Buffer;
  filename: string | undefined;
  mimeType: string | undefined;
}

export interface ChatEvent {
  kind: 'new' | 'edit' | 'delete';
  chatId: number;
  /** Token of the bot whose private chat this is, or of the bot that acted in a group. */
  token: string | undefined;
  direction: 'in' | 'out';
  message: TgMessage;
}

export interface Target {
  log: ChatLog;
  chat: TgChat;
  user: UserRecord | undefined;
  group: GroupRecord | undefined;
}

export class World {
  readonly bots = new Map<string, BotRecord>();
  readonly botsById = new Map<number, BotRecord>();
  readonly users = new Map<number, UserRecord>();
  readonly groups = new Map<number, GroupRecord>();
  readonly logs = new Map<string, ChatLog>();
  readonly files = new Map<string, FileRecord>();
  readonly filesByPath = new Map<string, FileRecord>();
  private seq = { user: 100_000_000, group: 1_000_000_000, file: 0, callback: 0, media: 0 };

  constructor(
    readonly now: () => number,
    readonly events: EventEmitter,
    readonly requireStart: boolean,
  ) {}

  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  nextUserId(): number {
    do this.seq.user += 1;
    while (this.users.has(this.seq.user) || this.botsById.has(this.seq.user));
    return this.seq.user;
  }

  nextGroupId(): number {
    do this.seq.group += 1;
    while (this.groups.has(-1_000_000_000_000 - this.seq.group));
    return -1_000_000_000_000 - this.seq.group;
  }

  nextCallbackId(): string {
    this.seq.callback += 1;
    return (BigInt(this.now()) * 1000n + BigInt(this.seq.callback)).toString();
  }

  nextMediaGroupId(): string {
    this.seq.media += 1;
    return `${13_000_000_000_000_000 + this.seq.media}`;
  }

  addFile(data: Buffer, kind: string, filename: string | undefined, mimeType: string | undefined): FileRecord {
    this.seq.file += 1;
    const ext = filename?.includes('.') ? filename.slice(filename.lastIndexOf('.') + 1) : kind === 'photos' ? 'jpg' : 'dat';
    const record: FileRecord = {
      fileId: `AgAC${randomBytes(18).toString('base64url')}${this.seq.file}`,
      uniqueId: `AQAD${this.seq.file}`,
      path: `${kind}/file_${this.seq.file}.${ext}`,
      data,
      filename,
      mimeType,
    };
    this.files.set(record.fileId, record);
    this.filesByPath.set(record.path, record);
    return record;
  }

  privateLog(bot: BotRecord, user: UserRecord): ChatLog {
    const key = `p:${bot.user.id}:${user.user.id}`;
    let log = this.logs.get(key);
    if (log === undefined) {
      const chat: TgChat = { id: user.user.id, type: 'private', first_name: user.user.first_name };
      if (user.user.last_name !== undefined) chat.last_name = user.user.last_name;
      if (user.user.username !== undefined) chat.username = user.user.username;
      log = { key, chat, nextMessageId: 1, messages: new Map() };
      this.logs.set(key, log);
    }
    return log;
  }

  groupLog(group: GroupRecord): ChatLog {
    const key = `g:${group.chat.id}`;
    let log = this.logs.get(key);
    if (log === undefined) {
      log = { key, chat: group.chat, nextMessageId: 1, messages: new Map() };
      this.logs.set(key, log);
    }
    return log;
  }

  /** The chat log a bot sees under chat_id, or undefined. */
  findLog(bot: BotRecord, chatId: number): ChatLog | undefined {
    return chatId > 0 ? this.logs.get(`p:${bot.user.id}:${chatId}`) : this.logs.get(`g:${chatId}`);
  }

  /**
   * Resolves chat_id for a bot. `send` applies the checks Telegram makes before delivering
   * (blocked, never started, not a member); `read` only needs the chat to exist for the bot.
   */
  resolveTarget(bot: BotRecord, chatId: number | string, mode: 'send' | 'read'): Target {
    if (typeof chatId === 'string') {
      const group = [...this.groups.values()].find((g) => g.chat.username !== undefined && `@${g.chat.username}` === chatId);
      if (group === undefined) throw badRequest(ERRORS.chatNotFound);
      return this.groupTarget(bot, group, mode);
    }
    if (chatId > 0) {
      const user = this.users.get(chatId);
      if (user === undefined) {
        if (this.botsById.has(chatId)) throw forbidden("bot can't send messages to bots");
        throw badRequest(ERRORS.chatNotFound);
      }
      if (mode === 'send') {
        if (bot.blockedBy.has(chatId)) throw forbidden(ERRORS.botBlocked);
        if (this.requireStart && !bot.startedBy.has(chatId)) throw forbidden(ERRORS.cantInitiate);
      } else if (this.requireStart && !bot.startedBy.has(chatId) && !bot.blockedBy.has(chatId)) {
        throw badRequest(ERRORS.chatNotFound);
      }
      const log = this.privateLog(bot, user);
      return { log, chat: log.chat, user, group: undefined };
    }
    const group = this.groups.get(chatId);
    if (group === undefined) throw badRequest(ERRORS.chatNotFound);
    return this.groupTarget(bot, group, mode);
  }

  private groupTarget(bot: BotRecord, group: GroupRecord, mode: 'send' | 'read'): Target {
    const status = group.members.get(bot.user.id);
    if (status === undefined || status === 'left' || status === 'kicked') {
      if (mode === 'send') throw forbidden(ERRORS.notMember);
      throw badRequest(ERRORS.chatNotFound);
    }
    const log = this.groupLog(group);
    return { log, chat: log.chat, user: undefined, group };
  }

  append(
    log: ChatLog,
    message: Omit<TgMessage, 'message_id' | 'date' | 'chat'>,
    direction: 'in' | 'out',
    bot: BotRecord,
    markup: TgReplyMarkup | undefined,
  ): StoredMessage {
    // Key order as the real server writes it: message_id, from, chat, date, then content.
    const full: TgMessage = { message_id: log.nextMessageId, from: message.from, chat: log.chat, date: this.nowSeconds(), ...message };
    if (full.from === undefined) delete full.from;
    log.nextMessageId += 1;
    const stored: StoredMessage = { message: full, direction, botId: bot.user.id, markup };
    log.messages.set(full.message_id, stored);
    this.emitChat('new', log, stored, bot);
    return stored;
  }

  emitChat(kind: ChatEvent['kind'], log: ChatLog, stored: StoredMessage, bot: BotRecord | undefined): void {
    if (this.events.listenerCount('chat') > 0) {
      const event: ChatEvent = { kind, chatId: log.chat.id, token: bot?.token, direction: stored.direction, message: stored.message };
      this.events.emit('chat', event);
    }
    this.events.emit('change');
  }

  /** Assigns the next update_id and queues the update for the bot. */
  emitUpdate(bot: BotRecord, body: Omit<TgUpdate, 'update_id'>, chatKey: string): TgUpdate {
    const update: TgUpdate = { update_id: bot.nextUpdateId, ...body };
    bot.nextUpdateId += 1;
    bot.delivery.enqueue(update, chatKey);
    return update;
  }
}
