/**
 * VK Callback API events → what the bridge does with them. Message and button events
 * become Telegram-shaped updates for the brain; the bridge's own page buttons and
 * permission changes are handled here without the brain.
 *
 * - A page button ({"vkp": token}) whose pages have expired is not the bridge's any more:
 *   it reaches the brain as a stale callback / the text it shows, so the person gets an answer.
 * - message_new → a private-chat `message`; message_id = conversation_message_id. A text
 *   button's payload: {"x": full text} restores a clipped label; VK's own "Start" button
 *   ({"command":"start"}) and a vk.me link's `ref` become "/start [ref]" (Telegram's deep link).
 * - message_event (callback button) → `callback_query` with data from the payload and an id
 *   "vk:<event_id>:<user_id>:<peer_id>" that answerCallbackQuery maps back.
 * - message_allow / message_deny → the identity is unblocked / blocked.
 * - update_id is derived from (group, event_id), so VK's retry of an event is the same
 *   update for the brain's dedup too.
 */
import { hash } from 'node:crypto';
import type { Update } from 'grammy/types';
import { CALLBACK_KIND, TEXT_KIND, pagesKind, parseBridgePayload } from './keyboard.js';
import type { PayloadStore } from './payload-store.js';

export interface VkCallbackEvent {
  type: string;
  group_id: number;
  event_id: string;
  object?: Record<string, unknown>;
  secret?: string;
  v?: string;
}

export interface VkUserInfo {
  firstName?: string | undefined;
  lastName?: string | undefined;
  username?: string | undefined;
}

export type ConvertedEvent =
  | { kind: 'update'; update: Update; peerId: number; userId: number }
  | { kind: 'page'; token: string; page: number; peerId: number; userId: number; conversationMessageId?: number; eventId?: string }
  | { kind: 'permission'; userId: number; allowed: boolean }
  | { kind: 'ignored'; reason: string };

/** Data the brain receives for a VK button whose stored payload has expired: unknown to every feature. */
export const STALE_CALLBACK_DATA = 'vk:stale';

/** What VK's "Start" button says in its languages, typed or tapped without a payload. */
const VK_START_WORDS = /^\s*\/?(?:начать|start|старт|почати|пачаць)\s*$/iu;

const LANG_BY_ID: Record<number, string> = { 0: 'ru', 1: 'uk', 2: 'be', 3: 'en', 4: 'es', 5: 'fi', 6: 'de', 7: 'it' };

export function updateIdOf(groupId: number, eventId: string): number {
  // 48 bits: a safe integer, collisions negligible within the dedup window.
  return parseInt(hash('sha256', `${groupId}:${eventId}`, 'hex').slice(0, 12), 16);
}

export function callbackQueryIdOf(eventId: string, userId: number, peerId: number): string {
  return `vk:${eventId}:${userId}:${peerId}`;
}

export function parseCallbackQueryId(id: string): { eventId: string; userId: number; peerId: number } | undefined {
  const m = /^vk:([A-Za-z0-9_-]{1,64}):(\d{1,12}):(\d{1,12})$/.exec(id);
  if (!m) return undefined;
  return { eventId: m[1]!, userId: Number(m[2]), peerId: Number(m[3]) };
}

/** A file a VK message carried: `url` downloads it (VK's own CDN links). */
export interface VkFile {
  kind: 'photo' | 'document' | 'voice' | 'sticker';
  url: string;
  fileName?: string;
  size?: number;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && /^https?:\/\//.test(v) && v.length <= 2048 ? v : undefined);
const obj = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

/** The biggest size of a VK photo / sticker image list. */
function largest(sizes: unknown): { url: string; width: number; height: number } | undefined {
  if (!Array.isArray(sizes)) return undefined;
  let best: { url: string; width: number; height: number } | undefined;
  for (const s of sizes) {
    const o = obj(s);
    const url = str(o?.url) ?? str(o?.src);
    const width = typeof o?.width === 'number' ? o.width : 0;
    const height = typeof o?.height === 'number' ? o.height : 0;
    if (url && (!best || width * height >= best.width * best.height)) best = { url, width, height };
  }
  return best;
}

/**
 * VK attachments → Telegram's fields (photo, document, voice, sticker; the first of each, so
 * the brain sees "a photo") plus `vk_files` (all of them) and `vk_unsupported` (types that
 * carry no downloadable file: video, wall posts, links...), so support can relay everything.
 */
export function filesOf(raw: unknown): Record<string, unknown> {
  if (!Array.isArray(raw)) return {};
  const files: VkFile[] = [];
  const unsupported: string[] = [];
  for (const item of raw.slice(0, 10)) {
    const a = obj(item);
    const type = typeof a?.type === 'string' ? a.type : undefined;
    const body = type ? obj(a?.[type]) : undefined;
    if (!type) continue;
    if (type === 'photo') {
      const size = largest(body?.sizes);
      if (size) files.push({ kind: 'photo', url: size.url });
      else unsupported.push(type);
    } else if (type === 'doc') {
      const url = str(body?.url);
      if (url) files.push({ kind: 'document', url, ...(typeof body?.title === 'string' ? { fileName: body.title.slice(0, 200) } : {}), ...(typeof body?.size === 'number' ? { size: body.size } : {}) });
      else unsupported.push(type);
    } else if (type === 'audio_message') {
      const url = str(body?.link_ogg) ?? str(body?.link_mp3);
      if (url) files.push({ kind: 'voice', url });
      else unsupported.push(type);
    } else if (type === 'sticker') {
      const image = largest(body?.images_with_background) ?? largest(body?.images);
      if (image) files.push({ kind: 'sticker', url: image.url });
      else unsupported.push(type);
    } else unsupported.push(type.slice(0, 32));
  }
  const out: Record<string, unknown> = {};
  const first = (kind: VkFile['kind']) => files.find((f) => f.kind === kind);
  const photo = first('photo');
  if (photo) out.photo = [{ file_id: photo.url, file_unique_id: photo.url.slice(-32), width: 0, height: 0 }];
  const doc = first('document');
  if (doc) out.document = { file_id: doc.url, file_unique_id: doc.url.slice(-32), ...(doc.fileName ? { file_name: doc.fileName } : {}) };
  const voice = first('voice');
  if (voice) out.voice = { file_id: voice.url, file_unique_id: voice.url.slice(-32), duration: 0 };
  const sticker = first('sticker');
  if (sticker) out.sticker = { file_id: sticker.url, file_unique_id: sticker.url.slice(-32), type: 'regular', width: 0, height: 0, is_animated: false, is_video: false };
  if (files.length) out.vk_files = files;
  if (unsupported.length) out.vk_unsupported = unsupported;
  return out;
}

const hasFile = (m: object) => ['photo', 'document', 'voice', 'sticker'].some((k) => k in m);

export interface UpdateConverterDeps {
  store: PayloadStore;
  /** Names for `from` (VK events carry only ids); cached by the caller. */
  userInfo(userId: number): Promise<VkUserInfo>;
}

const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined);

export function createUpdateConverter(deps: UpdateConverterDeps) {
  async function from(userId: number, langId: number | undefined) {
    const info = await deps.userInfo(userId).catch((): VkUserInfo => ({}));
    return {
      id: userId,
      is_bot: false as const,
      first_name: info.firstName ?? `id${userId}`,
      ...(info.lastName ? { last_name: info.lastName } : {}),
      ...(info.username ? { username: info.username } : {}),
      ...(langId !== undefined && LANG_BY_ID[langId] ? { language_code: LANG_BY_ID[langId] } : {}),
    };
  }

  const pagesExist = async (peerId: number, token: string) => (await deps.store.get(pagesKind(peerId), token)) !== undefined;

  async function messageNew(event: VkCallbackEvent): Promise<ConvertedEvent> {
    const message = event.object?.message as Record<string, unknown> | undefined;
    const clientInfo = event.object?.client_info as Record<string, unknown> | undefined;
    const peerId = int(message?.peer_id);
    const userId = int(message?.from_id);
    const cmid = int(message?.conversation_message_id);
    if (!message || peerId === undefined || userId === undefined || cmid === undefined) return { kind: 'ignored', reason: 'malformed message_new' };
    // Chats (peer ≥ 2e9) and messages from other communities are not a customer's dialog.
    if (peerId !== userId || userId <= 0) return { kind: 'ignored', reason: 'not a private dialog' };
    let text = typeof message.text === 'string' ? message.text : '';
    const payload = message.payload === undefined ? undefined : parseBridgePayload(message.payload);
    // A page button of an expired keyboard reaches the brain as the text it shows (a helpful reply).
    if (payload && 'vkp' in payload && (await pagesExist(peerId, payload.vkp))) return { kind: 'page', token: payload.vkp, page: payload.n, peerId, userId };
    if (payload && 'x' in payload) text = payload.x;
    if (payload && 'xt' in payload) text = (await deps.store.get<string>(TEXT_KIND, payload.xt)) ?? text;
    if (payload && 'command' in payload && payload.command === 'start') text = '/start';
    // VK's start words typed (or sent by an old client without the button payload) are /start too.
    else if (VK_START_WORDS.test(text)) text = '/start';
    const ref = typeof message.ref === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(message.ref) ? message.ref : undefined;
    if (ref && (text === '' || text === '/start')) text = `/start ${ref}`;
    const update: Update = {
      update_id: updateIdOf(event.group_id, event.event_id),
      message: {
        message_id: cmid,
        date: int(message.date) ?? Math.floor(Date.now() / 1000),
        chat: { id: peerId, type: 'private', first_name: '' },
        from: await from(userId, int(clientInfo?.lang_id)),
        ...(text !== '' ? { text } : {}),
        ...(text.startsWith('/') ? { entities: [{ type: 'bot_command' as const, offset: 0, length: text.split(/\s/)[0]!.length }] } : {}),
        ...filesOf(message.attachments),
      } as NonNullable<Update['message']>,
    };
    // A caption, as Telegram has it, when the text came with files.
    if (text !== '' && update.message && hasFile(update.message)) {
      const m = update.message as unknown as Record<string, unknown>;
      m.caption = text;
      delete m.text;
    }
    update.message!.chat = { id: peerId, type: 'private', first_name: update.message!.from!.first_name };
    return { kind: 'update', update, peerId, userId };
  }

  async function messageEvent(event: VkCallbackEvent): Promise<ConvertedEvent> {
    const o = event.object ?? {};
    const userId = int(o.user_id);
    const peerId = int(o.peer_id);
    const eventId = typeof o.event_id === 'string' ? o.event_id : undefined;
    const cmid = int(o.conversation_message_id);
    if (userId === undefined || peerId === undefined || !eventId || cmid === undefined) return { kind: 'ignored', reason: 'malformed message_event' };
    if (peerId !== userId) return { kind: 'ignored', reason: 'not a private dialog' };
    const payload = parseBridgePayload(o.payload);
    // An expired page button goes to the brain as a stale button: it answers politely.
    if (payload && 'vkp' in payload && (await pagesExist(peerId, payload.vkp))) {
      return { kind: 'page', token: payload.vkp, page: payload.n, peerId, userId, conversationMessageId: cmid, eventId };
    }
    let data = STALE_CALLBACK_DATA;
    if (payload && 'd' in payload) data = payload.d;
    if (payload && 't' in payload) data = (await deps.store.get<string>(CALLBACK_KIND, payload.t)) ?? STALE_CALLBACK_DATA;
    const user = await from(userId, undefined);
    const update: Update = {
      update_id: updateIdOf(event.group_id, event.event_id),
      callback_query: {
        id: callbackQueryIdOf(eventId, userId, peerId),
        from: user,
        chat_instance: String(peerId),
        data,
        message: {
          message_id: cmid,
          date: Math.floor(Date.now() / 1000),
          chat: { id: peerId, type: 'private', first_name: user.first_name },
          from: { id: event.group_id, is_bot: true, first_name: 'Kabinet' },
          text: '',
        },
      },
    };
    return { kind: 'update', update, peerId, userId };
  }

  return {
    async convert(event: VkCallbackEvent): Promise<ConvertedEvent> {
      switch (event.type) {
        case 'message_new':
          return messageNew(event);
        case 'message_event':
          return messageEvent(event);
        case 'message_allow':
        case 'message_deny': {
          const userId = int(event.object?.user_id);
          if (userId === undefined) return { kind: 'ignored', reason: `malformed ${event.type}` };
          return { kind: 'permission', userId, allowed: event.type === 'message_allow' };
        }
        default:
          // message_reply / message_edit (our own messages), typing state, wall events...
          return { kind: 'ignored', reason: `event type ${event.type}` };
      }
    },
  };
}

export type UpdateConverter = ReturnType<typeof createUpdateConverter>;
