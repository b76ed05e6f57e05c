import type { WebhookConfig } from './delivery.js';
import { parseFormattedText } from './entities.js';
import type { FormattedText } from './entities.js';
import { badRequest, ERRORS, tooManyRequests } from './errors.js';
import { inlinePart, validateReplyMarkup } from './markup.js';
import type { Params } from './params.js';
import type { RateLimitConfig, RateLimiter } from './rate-limiter.js';
import type { BotRecord, FileRecord, StoredMessage, Target, World } from './state.js';
import type { TgBotCommand, TgChatMember, TgMessage, TgMessageEntity, TgMessageOrigin, TgReplyMarkup, TgUser } from './types.js';

export interface MethodContext {
  world: World;
  bot: BotRecord;
  params: Params;
  limiter: RateLimiter;
  limits: RateLimitConfig;
  callbackQueryTimeoutMs: number;
  /** Register cleanup for a long-running call (getUpdates) when the client goes away. */
  onAbort(cb: () => void): void;
}

/** A result with the extra "description" field some methods return (setWebhook). */
export class Described {
  constructor(
    readonly result: unknown,
    readonly description: string,
  ) {}
}

export type Handler = (ctx: MethodContext) => unknown;

const TEXT_LIMIT = 4096;
const CAPTION_LIMIT = 1024;
const SECRET_RE = /^[A-Za-z0-9_-]{1,256}$/;

const entitiesError = (): Error => badRequest("can't parse entities: can't parse entities JSON object");

/** text + parse_mode or explicit entities, as the API resolves them. */
function formatted(params: Params, textKey: string, modeKey: string, entitiesKey: string): FormattedText | undefined {
  const raw = params.str(textKey);
  if (raw === undefined) return undefined;
  const explicit = params.json(entitiesKey, entitiesError);
  if (Array.isArray(explicit)) return { text: raw, entities: explicit as TgMessageEntity[] };
  return parseFormattedText(raw, params.str(modeKey));
}

function messageText(params: Params): FormattedText {
  const text = formatted(params, 'text', 'parse_mode', 'entities');
  if (text === undefined || text.text.trim().length === 0) throw badRequest(ERRORS.textEmpty);
  if (text.text.length > TEXT_LIMIT) throw badRequest(ERRORS.textTooLong);
  return text;
}

function caption(params: Params): FormattedText | undefined {
  const text = formatted(params, 'caption', 'parse_mode', 'caption_entities');
  if (text !== undefined && text.text.length > CAPTION_LIMIT) throw badRequest(ERRORS.captionTooLong);
  return text;
}

function replyMarkup(params: Params, target: Target): TgReplyMarkup | undefined {
  const markup = params.json('reply_markup', () => badRequest("can't parse reply keyboard markup JSON object"));
  return markup === undefined ? undefined : validateReplyMarkup(markup, target.chat.type);
}

/** Counts one message (or `cost`) against the bot's global and the chat's limits. */
function spend(ctx: MethodContext, target: Target, cost = 1): void {
  const { limits } = ctx;
  if (!limits.enabled) return;
  const paid = ctx.params.bool('allow_paid_broadcast');
  const botId = ctx.bot.user.id;
  const chatSpec = target.chat.type === 'private' ? limits.privateChat : limits.group;
  const retryAfter = ctx.limiter.take(
    [
      paid ? { key: `paid:${botId}`, spec: limits.paidGlobal } : { key: `global:${botId}`, spec: limits.global },
      { key: `chat:${botId}:${target.chat.id}`, spec: chatSpec },
    ],
    cost,
  );
  if (retryAfter > 0) throw tooManyRequests(retryAfter);
}

/** message_thread_id as the API checks it: a forum topic, or a reply thread in a supergroup. */
function threadId(ctx: MethodContext, target: Target): number | undefined {
  const id = ctx.params.int('message_thread_id');
  if (id === undefined || target.group === undefined) return undefined;
  if (target.chat.is_forum === true) {
    const topic = target.group.topics.get(id);
    if (topic === undefined) throw badRequest(ERRORS.threadNotFound);
    const status = target.group.members.get(ctx.bot.user.id);
    if (topic.closed && status !== 'administrator' && status !== 'creator') throw badRequest('TOPIC_CLOSED');
    return id;
  }
  if (!target.log.messages.has(id)) throw badRequest(ERRORS.threadNotFound);
  return id;
}

function threadFields(target: Target, thread: number | undefined): Partial<TgMessage> {
  if (thread === undefined) return {};
  return target.chat.is_forum === true ? { message_thread_id: thread, is_topic_message: true } : { message_thread_id: thread };
}

function replyTo(ctx: MethodContext, target: Target): Partial<TgMessage> {
  const parameters = ctx.params.json('reply_parameters', () => badRequest("can't parse reply parameters JSON object"));
  let id = ctx.params.int('reply_to_message_id');
  let allowMissing = ctx.params.bool('allow_sending_without_reply');
  if (typeof parameters === 'object' && parameters !== null) {
    const p = parameters as Record<string, unknown>;
    if (typeof p['message_id'] === 'number') id = p['message_id'];
    allowMissing = p['allow_sending_without_reply'] === true;
  }
  if (id === undefined) return {};
  const replied = target.log.messages.get(id);
  if (replied === undefined) {
    if (allowMissing) return {};
    throw badRequest('message to be replied not found');
  }
  return { reply_to_message: { ...replied.message, reply_to_message: undefined } as TgMessage };
}

function sendTarget(ctx: MethodContext): Target {
  return ctx.world.resolveTarget(ctx.bot, ctx.params.chatId(), 'send');
}

function withText(text: FormattedText): Partial<TgMessage> {
  return text.entities.length > 0 ? { text: text.text, entities: text.entities } : { text: text.text };
}

function withCaption(text: FormattedText | undefined): Partial<TgMessage> {
  if (text === undefined || text.text.length === 0) return {};
  return text.entities.length > 0 ? { caption: text.text, caption_entities: text.entities } : { caption: text.text };
}

function postMessage(ctx: MethodContext, target: Target, body: Partial<TgMessage>, markup: TgReplyMarkup | undefined): TgMessage {
  const inline = inlinePart(markup);
  const message: Partial<TgMessage> = { ...body, from: ctx.bot.user };
  if (inline !== undefined) message.reply_markup = inline;
  if (ctx.params.bool('protect_content')) message.has_protected_content = true;
  const stored = ctx.world.append(target.log, message, 'out', ctx.bot, markup);
  return stored.message;
}

/** Resolves photo/document input: multipart upload, attach://, a known file_id or a URL. */
function inputFile(ctx: MethodContext, value: unknown, field: string, kind: string): FileRecord {
  const { world, params } = ctx;
  const direct = typeof value === 'string' || value === undefined ? params.files.get(field) : undefined;
  if (direct !== undefined && (value === undefined || value === '')) {
    return world.addFile(direct.data, kind, direct.filename, direct.contentType);
  }
  if (typeof value !== 'string' || value === '') {
    if (direct !== undefined) return world.addFile(direct.data, kind, direct.filename, direct.contentType);
    throw badRequest(`there is no ${field} in the request`);
  }
  if (value.startsWith('attach://')) {
    const part = params.files.get(value.slice('attach://'.length));
    if (part === undefined) throw badRequest(ERRORS.wrongFileIdentifier);
    return world.addFile(part.data, kind, part.filename, part.contentType);
  }
  const known = world.files.get(value);
  if (known !== undefined) return known;
  if (/^https?:\/\/\S+$/i.test(value)) {
    // The real server downloads the URL; the fake has no internet and stores a placeholder.
    const name = value.slice(value.lastIndexOf('/') + 1).split('?')[0] || undefined;
    return world.addFile(Buffer.from(value), kind, name, undefined);
  }
  if (params.files.has(value)) {
    const part = params.files.get(value);
    if (part !== undefined) return world.addFile(part.data, kind, part.filename, part.contentType);
  }
  throw badRequest(ERRORS.wrongFileIdentifier);
}

function photoSizes(world: World, file: FileRecord): TgMessage['photo'] {
  const thumb = world.addFile(file.data.subarray(0, 1024), 'thumbnails', undefined, 'image/jpeg');
  return [
    { file_id: thumb.fileId, file_unique_id: thumb.uniqueId, width: 90, height: 90, file_size: thumb.data.length },
    { file_id: file.fileId, file_unique_id: file.uniqueId, width: 800, height: 800, file_size: file.data.length },
  ];
}

function documentOf(file: FileRecord): TgMessage['document'] {
  const doc: NonNullable<TgMessage['document']> = { file_id: file.fileId, file_unique_id: file.uniqueId, file_size: file.data.length };
  if (file.filename !== undefined) doc.file_name = file.filename;
  if (file.mimeType !== undefined) doc.mime_type = file.mimeType;
  return doc;
}

function mediaBody(ctx: MethodContext, type: string, value: unknown, field: string): Partial<TgMessage> {
  if (type === 'photo') return { photo: photoSizes(ctx.world, inputFile(ctx, value, field, 'photos')) };
  if (type === 'document') return { document: documentOf(inputFile(ctx, value, field, 'documents')) };
  if (MEDIA_KINDS.includes(type as MediaKind)) return mediaOf(type as MediaKind, inputFile(ctx, value, field, `${type}s`));
  return { document: documentOf(inputFile(ctx, value, field, `${type}s`)) };
}

/** File kinds beyond photo and document, with the fields their objects carry. */
export const MEDIA_KINDS = ['voice', 'audio', 'video', 'animation', 'video_note', 'sticker'] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];

export function mediaOf(kind: MediaKind, file: FileRecord): Partial<TgMessage> {
  const base = documentOf(file)!;
  switch (kind) {
    case 'voice':
    case 'audio':
      return { [kind]: { ...base, duration: 1 } };
    case 'video':
    case 'animation':
      return { [kind]: { ...base, duration: 1, width: 640, height: 480 } };
    case 'video_note':
      return { video_note: { file_id: base.file_id, file_unique_id: base.file_unique_id, file_size: base.file_size, duration: 1, length: 240 } };
    case 'sticker':
      return { sticker: { file_id: base.file_id, file_unique_id: base.file_unique_id, file_size: base.file_size, type: 'regular', width: 512, height: 512, is_animated: false, is_video: false } };
  }
}

/** sendVoice, sendAudio, sendVideo, sendAnimation, sendVideoNote, sendSticker (stickers have no caption). */
function sendMedia(kind: MediaKind): Handler {
  return (ctx) => {
    const target = sendTarget(ctx);
    const text = kind === 'sticker' || kind === 'video_note' ? undefined : caption(ctx.params);
    const markup = replyMarkupOf(ctx, target);
    const thread = threadFields(target, threadId(ctx, target));
    const media = mediaBody(ctx, kind, ctx.params.raw[kind], kind);
    spend(ctx, target);
    return postMessage(ctx, target, { ...thread, ...replyTo(ctx, target), ...media, ...withCaption(text) }, markup);
  };
}

/** The bot's own message, as edit methods require. */
function editable(ctx: MethodContext): { target: Target; stored: StoredMessage } {
  if (ctx.params.has('inline_message_id') && !ctx.params.has('chat_id')) throw badRequest(ERRORS.messageToEditNotFound);
  const target = ctx.world.resolveTarget(ctx.bot, ctx.params.chatId(), 'send');
  const id = ctx.params.requiredInt('message_id');
  const stored = target.log.messages.get(id);
  if (stored === undefined) throw badRequest(ERRORS.messageToEditNotFound);
  if (stored.direction !== 'out' || stored.botId !== ctx.bot.user.id) throw badRequest(ERRORS.cantBeEdited);
  return { target, stored };
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function applyEdit(ctx: MethodContext, target: Target, stored: StoredMessage, patch: Partial<TgMessage>, markup: TgReplyMarkup | undefined): TgMessage {
  const current = stored.message;
  const next: TgMessage = { ...current, ...patch };
  // An edit without reply_markup removes the inline keyboard, as in Telegram.
  const inline = inlinePart(markup);
  if (inline === undefined) delete next.reply_markup;
  else next.reply_markup = inline;
  for (const key of ['entities', 'caption_entities', 'caption'] as const) {
    if (key in patch && patch[key] === undefined) delete next[key];
  }
  const unchanged =
    next.text === current.text &&
    next.caption === current.caption &&
    sameJson(next.entities, current.entities) &&
    sameJson(next.caption_entities, current.caption_entities) &&
    sameJson(next.photo, current.photo) &&
    sameJson(next.document, current.document) &&
    sameJson(next.reply_markup, current.reply_markup);
  if (unchanged) throw badRequest(ERRORS.notModified);
  spend(ctx, target);
  next.edit_date = ctx.world.nowSeconds();
  stored.message = next;
  stored.markup = markup;
  ctx.world.emitChat('edit', target.log, stored, ctx.bot);
  return next;
}

function editMarkup(ctx: MethodContext, target: Target): TgReplyMarkup | undefined {
  const markup = replyMarkup(ctx.params, target);
  if (markup !== undefined && !('inline_keyboard' in markup)) throw badRequest('inline keyboard expected');
  return markup;
}

function replyMarkupOf(ctx: MethodContext, target: Target): TgReplyMarkup | undefined {
  return replyMarkup(ctx.params, target);
}

function copyable(stored: StoredMessage | undefined, notFound: string): StoredMessage {
  if (stored === undefined) throw badRequest(notFound);
  const m = stored.message;
  if (m.text === undefined && m.photo === undefined && m.document === undefined && m.contact === undefined && !MEDIA_KINDS.some((k) => m[k] !== undefined)) {
    throw badRequest("message can't be copied");
  }
  return stored;
}

function contentOf(message: TgMessage): Partial<TgMessage> {
  const body: Partial<TgMessage> = {};
  for (const key of ['text', 'entities', 'caption', 'caption_entities', 'photo', 'document', 'contact', ...MEDIA_KINDS] as const) {
    if (message[key] !== undefined) (body as Record<string, unknown>)[key] = message[key];
  }
  return body;
}

function messageIds(ctx: MethodContext): number[] {
  const ids = ctx.params.json('message_ids', () => badRequest('message identifiers are invalid'));
  if (!Array.isArray(ids) || ids.length === 0) throw badRequest('message identifiers are not specified');
  if (ids.length > 100) throw badRequest('too many message identifiers specified');
  const numbers = ids.map((id) => Number(id));
  for (let i = 0; i < numbers.length; i += 1) {
    const n = numbers[i] ?? Number.NaN;
    if (!Number.isInteger(n) || n <= 0) throw badRequest('message identifiers are invalid');
    if (i > 0 && n <= (numbers[i - 1] ?? 0)) throw badRequest('message identifiers must be in a strictly increasing order');
  }
  return numbers;
}

function chatMember(user: TgUser, status: TgChatMember['status']): TgChatMember {
  if (status === 'administrator') {
    return {
      status,
      user,
      can_be_edited: false,
      is_anonymous: false,
      can_manage_chat: true,
      can_delete_messages: true,
      can_manage_video_chats: true,
      can_restrict_members: true,
      can_promote_members: false,
      can_change_info: true,
      can_invite_users: true,
      can_post_stories: false,
      can_edit_stories: false,
      can_delete_stories: false,
      can_pin_messages: true,
      can_manage_topics: true,
    };
  }
  if (status === 'creator') return { status, user, is_anonymous: false };
  if (status === 'kicked') return { status, user, until_date: 0 };
  return { status, user };
}

function isAdmin(status: TgChatMember['status'] | undefined): boolean {
  return status === 'administrator' || status === 'creator';
}

function commandsKey(ctx: MethodContext): string {
  const scope = ctx.params.json('scope', () => badRequest("can't parse BotCommandScope JSON object")) ?? { type: 'default' };
  return `${JSON.stringify(scope)}|${ctx.params.str('language_code') ?? ''}`;
}

function forumGroup(ctx: MethodContext): { target: Target; group: NonNullable<Target['group']> } {
  const target = ctx.world.resolveTarget(ctx.bot, ctx.params.chatId(), 'send');
  if (target.group === undefined || target.chat.is_forum !== true) throw badRequest('the chat is not a forum');
  if (!isAdmin(target.group.members.get(ctx.bot.user.id))) throw badRequest('not enough rights to manage topics');
  return { target, group: target.group };
}

function topicOf(ctx: MethodContext, group: NonNullable<Target['group']>): NonNullable<ReturnType<typeof group.topics.get>> {
  const topic = group.topics.get(ctx.params.requiredInt('message_thread_id'));
  if (topic === undefined) throw badRequest(ERRORS.threadNotFound);
  return topic;
}

const TOPIC_COLORS = [0x6fb9f0, 0xffd67e, 0xcb86db, 0x8eee98, 0xff93b2, 0xfb6f5f];

/** Every Bot API method the fake implements, by its canonical name. */
export const METHODS: Record<string, Handler> = {
  getMe: ({ bot }) => ({
    ...bot.user,
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
  }),
  logOut: () => true,
  close: () => true,

  getUpdates: ({ bot, params, onAbort }) => {
    const limit = Math.min(100, Math.max(1, params.int('limit') ?? 100));
    const allowed = params.json('allowed_updates', () => badRequest("can't parse allowed updates"));
    if (Array.isArray(allowed)) bot.delivery.allowedUpdates = allowed.map(String);
    return bot.delivery.getUpdates(params.int('offset') ?? 0, limit, Math.min(50, params.int('timeout') ?? 0), onAbort);
  },
  setWebhook: ({ bot, params }) => {
    const url = params.str('url') ?? '';
    const drop = params.bool('drop_pending_updates');
    if (url === '') {
      return new Described(true, bot.delivery.deleteWebhook(drop) ? 'Webhook was deleted' : 'Webhook is already deleted');
    }
    if (!/^https?:\/\/[^\s/]+/i.test(url)) throw badRequest('bad webhook: Failed to resolve host: Name or service not known');
    const secret = params.str('secret_token');
    if (secret !== undefined && secret !== '' && !SECRET_RE.test(secret)) {
      throw badRequest('bad webhook: Secret token contains unallowed characters');
    }
    const allowed = params.json('allowed_updates', () => badRequest("can't parse allowed updates"));
    const maxConnections = Math.min(100, Math.max(1, params.int('max_connections') ?? 40));
    const same = bot.delivery.webhook?.url === url;
    const config: WebhookConfig = {
      url,
      secretToken: secret === '' ? undefined : secret,
      maxConnections,
      allowedUpdates: Array.isArray(allowed) ? allowed.map(String) : undefined,
      ipAddress: '127.0.0.1',
    };
    bot.delivery.setWebhook(config, drop);
    return new Described(true, same ? 'Webhook is already set' : 'Webhook was set');
  },
  deleteWebhook: ({ bot, params }) =>
    new Described(true, bot.delivery.deleteWebhook(params.bool('drop_pending_updates')) ? 'Webhook was deleted' : 'Webhook is already deleted'),
  getWebhookInfo: ({ bot }) => {
    const { delivery } = bot;
    const config = delivery.webhook;
    const info: Record<string, unknown> = {
      url: config?.url ?? '',
      has_custom_certificate: false,
      pending_update_count: delivery.pendingCount,
    };
    if (config !== undefined) {
      info['max_connections'] = config.maxConnections;
      info['ip_address'] = config.ipAddress;
      if (config.allowedUpdates !== undefined) info['allowed_updates'] = config.allowedUpdates;
      if (delivery.lastErrorDate !== undefined) {
        info['last_error_date'] = delivery.lastErrorDate;
        info['last_error_message'] = delivery.lastErrorMessage;
      }
    }
    return info;
  },

  sendMessage: (ctx) => {
    const target = sendTarget(ctx);
    const text = messageText(ctx.params);
    const markup = replyMarkupOf(ctx, target);
    const body = { ...threadFields(target, threadId(ctx, target)), ...replyTo(ctx, target), ...withText(text) };
    spend(ctx, target);
    return postMessage(ctx, target, body, markup);
  },
  sendPhoto: (ctx) => {
    const target = sendTarget(ctx);
    const text = caption(ctx.params);
    const markup = replyMarkupOf(ctx, target);
    const thread = threadFields(target, threadId(ctx, target));
    const media = mediaBody(ctx, 'photo', ctx.params.raw['photo'], 'photo');
    spend(ctx, target);
    return postMessage(ctx, target, { ...thread, ...replyTo(ctx, target), ...media, ...withCaption(text) }, markup);
  },
  sendDocument: (ctx) => {
    const target = sendTarget(ctx);
    const text = caption(ctx.params);
    const markup = replyMarkupOf(ctx, target);
    const thread = threadFields(target, threadId(ctx, target));
    const media = mediaBody(ctx, 'document', ctx.params.raw['document'], 'document');
    spend(ctx, target);
    return postMessage(ctx, target, { ...thread, ...replyTo(ctx, target), ...media, ...withCaption(text) }, markup);
  },
  sendVoice: sendMedia('voice'),
  sendAudio: sendMedia('audio'),
  sendVideo: sendMedia('video'),
  sendAnimation: sendMedia('animation'),
  sendVideoNote: sendMedia('video_note'),
  sendSticker: sendMedia('sticker'),
  sendMediaGroup: (ctx) => {
    const target = sendTarget(ctx);
    const media = ctx.params.json('media', () => badRequest("can't parse InputMedia JSON object"));
    if (!Array.isArray(media) || media.length < 2 || media.length > 10) {
      throw badRequest('wrong number of media in the album: must be 2-10');
    }
    const thread = threadFields(target, threadId(ctx, target));
    const bodies = media.map((item: unknown) => {
      if (typeof item !== 'object' || item === null) throw badRequest("can't parse InputMedia JSON object");
      const m = item as Record<string, unknown>;
      const type = typeof m['type'] === 'string' ? m['type'] : '';
      if (!['photo', 'video', 'document', 'audio'].includes(type)) throw badRequest("can't parse InputMedia JSON object");
      const text = typeof m['caption'] === 'string' ? parseFormattedText(m['caption'], typeof m['parse_mode'] === 'string' ? m['parse_mode'] : undefined) : undefined;
      return { ...mediaBody(ctx, type, m['media'], type), ...withCaption(text) };
    });
    spend(ctx, target, bodies.length);
    const groupId = ctx.world.nextMediaGroupId();
    return bodies.map((body) => postMessage(ctx, target, { ...thread, ...body, media_group_id: groupId }, undefined));
  },
  sendChatAction: (ctx) => {
    const target = sendTarget(ctx);
    threadId(ctx, target);
    if (!ctx.params.has('action')) throw badRequest('action is empty');
    return true;
  },

  editMessageText: (ctx) => {
    const { target, stored } = editable(ctx);
    if (stored.message.text === undefined) throw badRequest(ERRORS.noTextToEdit);
    const text = messageText(ctx.params);
    const markup = editMarkup(ctx, target);
    return applyEdit(ctx, target, stored, { text: text.text, entities: text.entities.length > 0 ? text.entities : undefined }, markup);
  },
  editMessageCaption: (ctx) => {
    const { target, stored } = editable(ctx);
    if (stored.message.photo === undefined && stored.message.document === undefined) throw badRequest(ERRORS.noCaptionToEdit);
    const text = caption(ctx.params);
    const markup = editMarkup(ctx, target);
    const patch: Partial<TgMessage> = { caption: undefined, caption_entities: undefined, ...withCaption(text) };
    return applyEdit(ctx, target, stored, patch, markup);
  },
  editMessageReplyMarkup: (ctx) => {
    const { target, stored } = editable(ctx);
    return applyEdit(ctx, target, stored, {}, editMarkup(ctx, target));
  },
  editMessageMedia: (ctx) => {
    const { target, stored } = editable(ctx);
    if (stored.message.photo === undefined && stored.message.document === undefined) throw badRequest("message can't be edited");
    const media = ctx.params.json('media', () => badRequest("can't parse InputMedia JSON object"));
    if (typeof media !== 'object' || media === null) throw badRequest("can't parse InputMedia JSON object");
    const m = media as Record<string, unknown>;
    const type = typeof m['type'] === 'string' ? m['type'] : '';
    const text = typeof m['caption'] === 'string' ? parseFormattedText(m['caption'], typeof m['parse_mode'] === 'string' ? m['parse_mode'] : undefined) : undefined;
    const patch: Partial<TgMessage> = { photo: undefined, document: undefined, caption: undefined, caption_entities: undefined, ...mediaBody(ctx, type, m['media'], type), ...withCaption(text) };
    const markup = editMarkup(ctx, target);
    const result = applyEdit(ctx, target, stored, patch, markup);
    if (patch.photo === undefined) delete result.photo;
    if (patch.document === undefined) delete result.document;
    return result;
  },
  deleteMessage: (ctx) => {
    const target = ctx.world.resolveTarget(ctx.bot, ctx.params.chatId(), 'read');
    const id = ctx.params.requiredInt('message_id');
    deleteOne(ctx, target, id);
    return true;
  },
  deleteMessages: (ctx) => {
    const target = ctx.world.resolveTarget(ctx.bot, ctx.params.chatId(), 'read');
    for (const id of messageIds(ctx)) {
      try {
        deleteOne(ctx, target, id);
      } catch {
        // deleteMessages skips messages that cannot be deleted.
      }
    }
    return true;
  },

  answerCallbackQuery: ({ bot, params, world, callbackQueryTimeoutMs }) => {
    const id = params.str('callback_query_id') ?? '';
    const query = bot.callbackQueries.get(id);
    if (query === undefined || query.answered || world.now() - query.createdAt > callbackQueryTimeoutMs) {
      throw badRequest(ERRORS.queryTooOld);
    }
    const text = params.str('text');
    if (text !== undefined && text.length > 200) throw badRequest('MESSAGE_TOO_LONG');
    query.answered = true;
    query.answer = { ...params.raw };
    return true;
  },

  copyMessage: (ctx) => {
    const from = ctx.world.resolveTarget(ctx.bot, ctx.params.chatId('from_chat_id'), 'read');
    const source = copyable(from.log.messages.get(ctx.params.requiredInt('message_id')), ERRORS.messageToCopyNotFound);
    const target = sendTarget(ctx);
    const markup = replyMarkupOf(ctx, target);
    const body = contentOf(source.message);
    if (ctx.params.has('caption') && body.text === undefined) Object.assign(body, { caption: undefined, caption_entities: undefined }, withCaption(caption(ctx.params)));
    const thread = threadFields(target, threadId(ctx, target));
    spend(ctx, target);
    return { message_id: postMessage(ctx, target, { ...thread, ...body }, markup).message_id };
  },
  copyMessages: (ctx) => {
    const from = ctx.world.resolveTarget(ctx.bot, ctx.params.chatId('from_chat_id'), 'read');
    const ids = messageIds(ctx);
    const target = sendTarget(ctx);
    const thread = threadFields(target, threadId(ctx, target));
    const sources = ids.map((id) => from.log.messages.get(id)).filter((s): s is StoredMessage => s !== undefined && copyableSafe(s));
    if (sources.length === 0) throw badRequest(ERRORS.messageToCopyNotFound);
    spend(ctx, target, sources.length);
    return sources.map((s) => ({ message_id: postMessage(ctx, target, { ...thread, ...contentOf(s.message) }, undefined).message_id }));
  },
  forwardMessage: (ctx) => {
    const from = ctx.world.resolveTarget(ctx.bot, ctx.params.chatId('from_chat_id'), 'read');
    const source = copyable(from.log.messages.get(ctx.params.requiredInt('message_id')), ERRORS.messageToForwardNotFound);
    const target = sendTarget(ctx);
    const thread = threadFields(target, threadId(ctx, target));
    spend(ctx, target);
    return postMessage(ctx, target, { ...thread, ...contentOf(source.message), forward_origin: forwardOrigin(source) }, undefined);
  },
  forwardMessages: (ctx) => {
    const from = ctx.world.resolveTarget(ctx.bot, ctx.params.chatId('from_chat_id'), 'read');
    const ids = messageIds(ctx);
    const target = sendTarget(ctx);
    const thread = threadFields(target, threadId(ctx, target));
    const sources = ids.map((id) => from.log.messages.get(id)).filter((s): s is StoredMessage => s !== undefined && copyableSafe(s));
    if (sources.length === 0) throw badRequest(ERRORS.messageToForwardNotFound);
    spend(ctx, target, sources.length);
    return sources.map((s) => ({
      message_id: postMessage(ctx, target, { ...thread, ...contentOf(s.message), forward_origin: forwardOrigin(s) }, undefined).message_id,
    }));
  },

  getChat: (ctx) => {
    const target = ctx.world.resolveTarget(ctx.bot, ctx.params.chatId(), 'read');
    return { ...target.chat, accent_color_id: 0, max_reaction_count: 11, ...(target.group === undefined ? {} : { permissions: {} }) };
  },
  getChatMember: (ctx) => {
    const target = ctx.world.resolveTarget(ctx.bot, ctx.params.chatId(), 'read');
    const userId = ctx.params.requiredInt('user_id');
    const user = ctx.world.users.get(userId)?.user ?? ctx.world.botsById.get(userId)?.user;
    if (user === undefined) throw badRequest('PARTICIPANT_ID_INVALID');
    if (target.group === undefined) {
      if (userId !== target.chat.id && userId !== ctx.bot.user.id) throw badRequest('PARTICIPANT_ID_INVALID');
      const kicked = userId === ctx.bot.user.id && ctx.bot.blockedBy.has(target.chat.id);
      return chatMember(user, kicked ? 'kicked' : 'member');
    }
    return chatMember(user, target.group.members.get(userId) ?? 'left');
  },
  getChatAdministrators: (ctx) => {
    const target = ctx.world.resolveTarget(ctx.bot, ctx.params.chatId(), 'read');
    if (target.group === undefined) throw badRequest('there are no administrators in the private chat');
    const admins: TgChatMember[] = [];
    for (const [id, status] of target.group.members) {
      const user = ctx.world.users.get(id)?.user ?? ctx.world.botsById.get(id)?.user;
      if (user !== undefined && isAdmin(status)) admins.push(chatMember(user, status));
    }
    return admins;
  },
  getChatMemberCount: (ctx) => {
    const target = ctx.world.resolveTarget(ctx.bot, ctx.params.chatId(), 'read');
    if (target.group === undefined) return 2;
    let count = 0;
    for (const status of target.group.members.values()) if (status !== 'left' && status !== 'kicked') count += 1;
    return count;
  },
  leaveChat: (ctx) => {
    const target = ctx.world.resolveTarget(ctx.bot, ctx.params.chatId(), 'read');
    if (target.group === undefined) throw badRequest('chat member status change is not allowed in private chats');
    const old = target.group.members.get(ctx.bot.user.id) ?? 'member';
    target.group.members.set(ctx.bot.user.id, 'left');
    ctx.world.emitUpdate(
      ctx.bot,
      {
        my_chat_member: {
          chat: target.chat,
          from: ctx.bot.user,
          date: ctx.world.nowSeconds(),
          old_chat_member: chatMember(ctx.bot.user, old),
          new_chat_member: chatMember(ctx.bot.user, 'left'),
        },
      },
      target.log.key,
    );
    return true;
  },

  setMyCommands: (ctx) => {
    const commands = ctx.params.json('commands', () => badRequest("can't parse commands JSON object"));
    if (!Array.isArray(commands)) throw badRequest('commands must be an Array');
    if (commands.length > 100) throw badRequest('too many commands specified');
    for (const c of commands as unknown[]) {
      const command = (c as Partial<TgBotCommand> | null)?.command;
      const description = (c as Partial<TgBotCommand> | null)?.description;
      if (typeof command !== 'string' || !/^[a-z0-9_]{1,32}$/.test(command)) throw badRequest('BOT_COMMAND_INVALID');
      if (typeof description !== 'string' || description.length < 1 || description.length > 256) {
        throw badRequest('BOT_COMMAND_DESCRIPTION_INVALID');
      }
    }
    const key = commandsKey(ctx);
    if (commands.length === 0) ctx.bot.commands.delete(key);
    else ctx.bot.commands.set(key, (commands as TgBotCommand[]).map(({ command, description }) => ({ command, description })));
    return true;
  },
  getMyCommands: (ctx) => ctx.bot.commands.get(commandsKey(ctx)) ?? [],
  deleteMyCommands: (ctx) => {
    ctx.bot.commands.delete(commandsKey(ctx));
    return true;
  },
  setChatMenuButton: (ctx) => {
    const button = ctx.params.json('menu_button', () => badRequest("can't parse menu button JSON object")) ?? { type: 'default' };
    const key = ctx.params.has('chat_id') ? String(ctx.params.chatId()) : 'default';
    if (key !== 'default') ctx.world.resolveTarget(ctx.bot, ctx.params.chatId(), 'read');
    ctx.bot.menuButtons.set(key, button);
    return true;
  },
  getChatMenuButton: (ctx) => {
    const key = ctx.params.has('chat_id') ? String(ctx.params.chatId()) : 'default';
    return ctx.bot.menuButtons.get(key) ?? ctx.bot.menuButtons.get('default') ?? { type: 'commands' };
  },
  setMyDescription: () => true,
  setMyShortDescription: () => true,
  setMyName: () => true,

  createForumTopic: (ctx) => {
    const { target, group } = forumGroup(ctx);
    const name = ctx.params.str('name') ?? '';
    if (name.length < 1 || name.length > 128) throw badRequest('TOPIC_TITLE_EMPTY');
    const iconColor = ctx.params.int('icon_color') ?? TOPIC_COLORS[group.topics.size % TOPIC_COLORS.length] ?? 0x6fb9f0;
    if (!TOPIC_COLORS.includes(iconColor)) throw badRequest('TOPIC_ICON_COLOR_INVALID');
    const emoji = ctx.params.str('icon_custom_emoji_id');
    const created = { name, icon_color: iconColor, ...(emoji === undefined ? {} : { icon_custom_emoji_id: emoji }) };
    // The topic id is the id of its service message, as in Telegram.
    const threadId = target.log.nextMessageId;
    group.topics.set(threadId, { threadId, name, iconColor, iconCustomEmojiId: emoji, closed: false });
    ctx.world.append(target.log, { message_thread_id: threadId, from: ctx.bot.user, forum_topic_created: created, is_topic_message: true }, 'out', ctx.bot, undefined);
    return { message_thread_id: threadId, ...created };
  },
  editForumTopic: (ctx) => {
    const { target, group } = forumGroup(ctx);
    const topic = topicOf(ctx, group);
    const name = ctx.params.str('name');
    const emoji = ctx.params.str('icon_custom_emoji_id');
    if (name !== undefined && (name.length < 1 || name.length > 128)) throw badRequest('TOPIC_TITLE_EMPTY');
    if ((name === undefined || name === topic.name) && (emoji === undefined || emoji === topic.iconCustomEmojiId)) {
      throw badRequest('TOPIC_NOT_MODIFIED');
    }
    if (name !== undefined) topic.name = name;
    if (emoji !== undefined) topic.iconCustomEmojiId = emoji;
    const edited = { ...(name === undefined ? {} : { name }), ...(emoji === undefined ? {} : { icon_custom_emoji_id: emoji }) };
    ctx.world.append(target.log, { message_thread_id: topic.threadId, is_topic_message: true, from: ctx.bot.user, forum_topic_edited: edited }, 'out', ctx.bot, undefined);
    return true;
  },
  closeForumTopic: (ctx) => toggleTopic(ctx, true),
  reopenForumTopic: (ctx) => toggleTopic(ctx, false),
  deleteForumTopic: (ctx) => {
    const { target, group } = forumGroup(ctx);
    const topic = topicOf(ctx, group);
    group.topics.delete(topic.threadId);
    for (const [id, stored] of target.log.messages) {
      if (stored.message.message_thread_id === topic.threadId) {
        target.log.messages.delete(id);
        ctx.world.emitChat('delete', target.log, stored, ctx.bot);
      }
    }
    return true;
  },

  getFile: ({ world, params }) => {
    const file = world.files.get(params.str('file_id') ?? '');
    if (file === undefined) throw badRequest(ERRORS.wrongFileId);
    return { file_id: file.fileId, file_unique_id: file.uniqueId, file_size: file.data.length, file_path: file.path };
  },
};

function copyableSafe(stored: StoredMessage): boolean {
  try {
    copyable(stored, '');
    return true;
  } catch {
    return false;
  }
}

function forwardOrigin(source: StoredMessage): TgMessageOrigin {
  const m = source.message;
  if (m.from !== undefined) return { type: 'user', sender_user: m.from, date: m.date };
  return { type: 'chat', sender_chat: m.chat, date: m.date };
}

function deleteOne(ctx: MethodContext, target: Target, id: number): void {
  const stored = target.log.messages.get(id);
  if (stored === undefined) throw badRequest(ERRORS.messageToDeleteNotFound);
  const own = stored.direction === 'out' && stored.botId === ctx.bot.user.id;
  if (target.group !== undefined && !own && !isAdmin(target.group.members.get(ctx.bot.user.id))) {
    throw badRequest("message can't be deleted");
  }
  target.log.messages.delete(id);
  ctx.world.emitChat('delete', target.log, stored, ctx.bot);
}

function toggleTopic(ctx: MethodContext, close: boolean): true {
  const { target, group } = forumGroup(ctx);
  const topic = topicOf(ctx, group);
  if (topic.closed === close) throw badRequest('TOPIC_NOT_MODIFIED');
  topic.closed = close;
  const service = close ? { forum_topic_closed: {} } : { forum_topic_reopened: {} };
  ctx.world.append(target.log, { message_thread_id: topic.threadId, is_topic_message: true, from: ctx.bot.user, ...service }, 'out', ctx.bot, undefined);
  return true;
}

/** Method lookup is case-insensitive, as in the Bot API. */
export const LOWERCASE_METHODS = new Map(Object.entries(METHODS).map(([name, handler]) => [name.toLowerCase(), { name, handler }]));
