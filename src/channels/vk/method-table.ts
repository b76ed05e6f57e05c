/**
 * THE method table: every Bot API method the brain may call, and its one VK form. The
 * grammY transformer and the VK OutboundSender both execute calls through `execute`, so
 * conversations, notifications and broadcasts share one translation. Anything not in the
 * table throws UnsupportedBotApiMethodError — loudly, never silently ignored.
 *
 * | Bot API                  | VK                                                                 |
 * |--------------------------|--------------------------------------------------------------------|
 * | getMe                    | groups.getById → a bot User (id = group id)                        |
 * | sendMessage              | messages.send(peer_ids=[peer], random_id) + keyboard               |
 * | sendPhoto                | photos upload (getMessagesUploadServer → upload → save) + send      |
 * | sendDocument, sendVideo, | docs upload (docs.getMessagesUploadServer type=doc → upload →       |
 * | sendAudio, sendAnimation,| docs.save) + send `doc<owner>_<id>`; VK's 200 MB limit; a video     |
 * | sendVideoNote            | goes as a document (a community cannot send video to a dialog)     |
 * | sendVoice                | ogg/opus: docs upload type=audio_message → `audio_message…`;       |
 * |                          | any other audio: as a document                                     |
 * | editMessageText          | messages.edit(peer_id, conversation_message_id)                    |
 * | editMessageCaption       | messages.getByConversationMessageId → messages.edit (keeps photo)   |
 * | editMessageReplyMarkup   | messages.getByConversationMessageId → messages.edit (keeps text)    |
 * | deleteMessage            | messages.delete(cmids, delete_for_all)                             |
 * | answerCallbackQuery      | messages.sendMessageEventAnswer (show_snackbar / open_link)        |
 * | sendChatAction           | no-op, returns true (typing is cosmetic; the fake and most VK      |
 * |                          | clients ignore setActivity for communities)                        |
 *
 * Ids: a Telegram chat id is the VK peer id, and a Telegram message_id is VK's
 * conversation_message_id — unique per peer exactly as message_id is unique per chat — so
 * edits, deletes and callback messages map both ways with no lookup table.
 */
import { hash, randomInt } from 'node:crypto';
import { clip } from '../../lib/clip.js';
import type { VK } from 'vk-io';
import { isOggOpus } from '../../lib/media.js';
import { UnsupportedBotApiMethodError, UnsupportedPayloadError, VK_BLOCKED, VK_RATE_LIMITED, VkCallError, VkUploadError, toVkCallError } from './errors.js';
import { toPlainText } from './format.js';
import { createKeyboardConverter, pagesKind, type KeyboardPages } from './keyboard.js';
import type { PayloadStore } from './payload-store.js';
import { parseCallbackQueryId } from './update-converter.js';

export interface VkBridgeDeps {
  vk: VK;
  groupId: number;
  store: PayloadStore;
  /** Downloads a file given by URL (sendPhoto, sendDocument ... with a link). Default: global fetch. */
  download?: (url: string) => Promise<Buffer>;
  now?: () => Date;
  /** The largest document VK takes (default VK_DOC_MAX_BYTES, 200 MB); tests lower it. */
  docMaxBytes?: number;
}

type Payload = Record<string, unknown>;
type Handler = (payload: Payload, options: ExecuteOptions) => Promise<unknown>;

export interface ExecuteOptions {
  /** The same for every attempt of one logical message (a notification id). */
  idempotencyKey?: string;
}

/**
 * VK's random_id for a logical message: a positive 53-bit integer derived from its key, so
 * every attempt carries the same one and VK drops the repeat ("prevents resending"). VK takes
 * 64-bit values (vk-io's own random ids reach 10^16); 53 bits keep collisions between
 * different messages negligible even if VK dedupes across all of a community's peers.
 */
export function randomIdFor(idempotencyKey: string): number {
  const digest = hash('sha256', idempotencyKey, 'buffer');
  // 21 high bits + 32 low bits = 53 bits; +1 keeps it off 0 (which switches dedup off).
  return ((digest.readUInt32BE(0) & 0x1f_ffff) * 2 ** 32 + digest.readUInt32BE(4)) % (Number.MAX_SAFE_INTEGER - 1) + 1;
}

export interface VkBridge {
  /** The supported Bot API methods, for docs and tests. */
  readonly methods: readonly string[];
  /**
   * Runs one Bot API call as its VK form; returns the Telegram-shaped result. With an
   * idempotencyKey, a sent message's random_id is derived from it, so VK drops a repeat.
   */
  execute(method: string, payload: Payload, options?: ExecuteOptions): Promise<unknown>;
  /** Shows page `n` of a paginated keyboard (the bridge's own "▶ 2/3" buttons). */
  turnPage(input: { token: string; page: number; peerId: number; conversationMessageId?: number }): Promise<boolean>;
  /** Answers a message_event without text (used for the bridge's own buttons). */
  ackEvent(input: { eventId: string; userId: number; peerId: number }): Promise<void>;
}

const SNACKBAR_MAX = 90;

/** VK's limit for one document; a bigger file cannot be sent (VkUploadError). */
export const VK_DOC_MAX_BYTES = 200 * 1024 * 1024;

/** Bot API file methods that VK carries as a document, with the payload field and a default name. */
const DOC_METHODS = {
  sendDocument: ['document', 'file.bin'],
  sendVideo: ['video', 'video.mp4'],
  sendAudio: ['audio', 'audio.mp3'],
  sendAnimation: ['animation', 'animation.mp4'],
  sendVideoNote: ['video_note', 'video_note.mp4'],
  sendVoice: ['voice', 'voice.ogg'],
} as const;
type DocMethod = keyof typeof DOC_METHODS;

export function createVkBridge(deps: VkBridgeDeps): VkBridge {
  const { vk, groupId, store } = deps;
  const now = deps.now ?? (() => new Date());
  const keyboards = createKeyboardConverter(store);
  const download = deps.download ?? defaultDownload;
  const docMaxBytes = deps.docMaxBytes ?? VK_DOC_MAX_BYTES;
  let me: Payload | undefined;

  const unix = () => Math.floor(now().getTime() / 1000);
  const bot = () => ({ id: groupId, is_bot: true, first_name: String(me?.first_name ?? 'Kabinet') });

  function peerOf(chatId: unknown): number {
    const peer = typeof chatId === 'number' ? chatId : typeof chatId === 'string' && /^-?\d+$/.test(chatId) ? Number(chatId) : NaN;
    if (!Number.isSafeInteger(peer) || peer <= 0 || peer >= 2_000_000_000) {
      throw new UnsupportedPayloadError(`chat_id ${String(chatId)} is not a VK user peer (only private dialogs are bridged)`);
    }
    return peer;
  }

  function messageIdOf(id: unknown): number {
    const n = Number(id);
    if (!Number.isSafeInteger(n) || n <= 0) throw new UnsupportedPayloadError(`message_id ${String(id)} is not a VK conversation_message_id`);
    return n;
  }

  function noInlineMessage(payload: Payload): void {
    if (payload.inline_message_id !== undefined) throw new UnsupportedPayloadError('inline_message_id: VK has no inline mode');
  }

  async function call<T>(method: string, params: Payload): Promise<T> {
    try {
      return (await vk.api.call(method, params)) as T;
    } catch (err) {
      throw toVkCallError(err, method) ?? err;
    }
  }

  function tgMessage(peerId: number, cmid: number, fields: Payload): Payload {
    return { message_id: cmid, date: unix(), chat: { id: peerId, type: 'private' }, from: bot(), ...fields };
  }

  async function send(peerId: number, params: Payload, idempotencyKey?: string): Promise<number> {
    const result = await call<Array<{ peer_id: number; conversation_message_id?: number; error?: { code: number; description: string } }>>('messages.send', {
      peer_ids: String(peerId),
      // Derived from the message's key when it has one (a notification resent after a crash
      // is dropped by VK); else random per call, which vk-io's own network retries reuse.
      random_id: idempotencyKey !== undefined ? randomIdFor(idempotencyKey) : randomInt(1, 2 ** 31 - 1),
      dont_parse_links: 1,
      ...params,
    });
    const item = result[0];
    if (!item) throw new VkCallError(10, 'empty messages.send response', 'messages.send');
    if (item.error) throw new VkCallError(item.error.code, item.error.description, 'messages.send');
    return item.conversation_message_id!;
  }

  async function edit(peerId: number, cmid: number, params: Payload): Promise<void> {
    await call('messages.edit', { peer_id: peerId, conversation_message_id: cmid, dont_parse_links: 1, keep_forward_messages: 1, keep_snippets: 1, ...params });
  }

  async function current(peerId: number, cmid: number): Promise<{ text: string; attachment: string }> {
    const res = await call<{ items: Array<{ text?: string; attachments?: Array<{ type: string; photo?: { owner_id: number; id: number; access_key?: string } }> }> }>(
      'messages.getByConversationMessageId',
      { peer_id: peerId, conversation_message_ids: cmid, group_id: groupId },
    );
    const item = res.items[0];
    if (!item) throw new VkCallError(100, 'message not found', 'messages.edit');
    const attachment = (item.attachments ?? [])
      .map((a) => (a.type === 'photo' && a.photo ? `photo${a.photo.owner_id}_${a.photo.id}${a.photo.access_key ? `_${a.photo.access_key}` : ''}` : undefined))
      .filter(Boolean)
      .join(',');
    return { text: item.text ?? '', attachment };
  }

  /** A file given as a URL (downloaded) or an InputFile; a Telegram file_id means nothing to VK. */
  async function fileOf(method: string, field: string, value: unknown): Promise<{ data: Buffer; filename: string | undefined }> {
    if (typeof value === 'string') {
      if (!/^https?:\/\//i.test(value)) throw new UnsupportedPayloadError(`${method}: a Telegram file_id has no meaning in VK; pass a URL or a file`);
      return { data: await download(value), filename: new URL(value).pathname.split('/').pop() || undefined };
    }
    if (value && typeof value === 'object' && 'toRaw' in value) {
      const input = value as { filename?: string; toRaw(): Promise<Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>> };
      return { data: await collect(await input.toRaw()), filename: input.filename };
    }
    throw new UnsupportedPayloadError(`${method}: ${field} must be a URL or an InputFile`);
  }

  async function uploadPhoto(peerId: number, photo: unknown): Promise<string> {
    const { data: value } = await fileOf('sendPhoto', 'photo', photo);
    try {
      const attachment = await vk.upload.messagePhoto({ peer_id: peerId, source: { value, filename: 'photo.jpg' } });
      return attachment.toString();
    } catch (err) {
      throw toVkCallError(err, 'photos.saveMessagesPhoto') ?? err;
    }
  }

  /**
   * docs.getMessagesUploadServer → upload → docs.save, through vk-io's upload helpers (their
   * API calls take slots of the token's pacer like any other). A refusal of the file itself is a
   * VkUploadError; VK's rate limits and a closed dialog stay VkCallErrors, as for any send.
   */
  async function uploadDoc(peerId: number, file: { data: Buffer; filename: string }, as: 'doc' | 'audio_message'): Promise<string> {
    if (file.data.length > docMaxBytes) throw new VkUploadError("the file is over VK's 200 MB document limit");
    try {
      const source = { value: file.data, filename: file.filename };
      const attachment = as === 'audio_message' ? await vk.upload.audioMessage({ peer_id: peerId, source }) : await vk.upload.messageDocument({ peer_id: peerId, title: file.filename, source });
      return attachment.toString();
    } catch (err) {
      const refused = toVkCallError(err, 'docs.save');
      if (refused && (VK_RATE_LIMITED.has(refused.code) || VK_BLOCKED.has(refused.code))) throw refused;
      throw new VkUploadError(`VK upload failed: ${refused ? `${refused.code} ${refused.message}` : err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  async function sendAsDoc(method: DocMethod, p: Payload, options: ExecuteOptions): Promise<Payload> {
    const [field, defaultName] = DOC_METHODS[method];
    const peerId = peerOf(p.chat_id);
    const caption = toPlainText(String(p.caption ?? ''), p.parse_mode);
    const file = await fileOf(method, field, p[field]);
    const filename = file.filename ?? defaultName;
    // VK plays only ogg/opus as a voice message; other audio is still delivered, as a file.
    const as = method === 'sendVoice' && isOggOpus(file.data) ? 'audio_message' : 'doc';
    const attachment = await uploadDoc(peerId, { data: file.data, filename }, as);
    const markup = await keyboards.convert(p.reply_markup, { peerId });
    const cmid = await send(peerId, { message: caption, attachment, ...(markup.keyboard ? { keyboard: markup.keyboard } : {}) }, options.idempotencyKey);
    const sent = { file_id: attachment, file_unique_id: attachment, file_size: file.data.length };
    return tgMessage(peerId, cmid, { ...(caption ? { caption } : {}), ...(as === 'audio_message' ? { voice: { ...sent, duration: 0 } } : { document: { ...sent, file_name: filename } }) });
  }

  const table: Record<string, Handler> = {
    async getMe() {
      if (!me) {
        const res = await call<{ groups: Array<{ id: number; name: string; screen_name: string }> }>('groups.getById', { group_id: groupId });
        const group = res.groups[0];
        me = {
          id: groupId,
          is_bot: true,
          first_name: group?.name ?? `club${groupId}`,
          username: group?.screen_name ?? `club${groupId}`,
          can_join_groups: false,
          can_read_all_group_messages: false,
          supports_inline_queries: false,
          can_connect_to_business: false,
          has_main_web_app: false,
          has_topics_enabled: false,
          allows_users_to_create_topics: false,
          can_manage_bots: false,
          supports_join_request_queries: false,
        };
      }
      return me;
    },

    async sendMessage(p, options) {
      const peerId = peerOf(p.chat_id);
      const text = toPlainText(String(p.text ?? ''), p.parse_mode);
      const markup = await keyboards.convert(p.reply_markup, { peerId });
      const cmid = await send(peerId, { message: text, ...(markup.keyboard ? { keyboard: markup.keyboard } : {}) }, options.idempotencyKey);
      return tgMessage(peerId, cmid, { text });
    },

    async sendPhoto(p, options) {
      const peerId = peerOf(p.chat_id);
      const caption = toPlainText(String(p.caption ?? ''), p.parse_mode);
      const attachment = await uploadPhoto(peerId, p.photo);
      const markup = await keyboards.convert(p.reply_markup, { peerId });
      const cmid = await send(peerId, { message: caption, attachment, ...(markup.keyboard ? { keyboard: markup.keyboard } : {}) }, options.idempotencyKey);
      return tgMessage(peerId, cmid, { caption, photo: [{ file_id: attachment, file_unique_id: attachment, width: 0, height: 0 }] });
    },

    sendDocument: (p, options) => sendAsDoc('sendDocument', p, options),
    sendVideo: (p, options) => sendAsDoc('sendVideo', p, options),
    sendAudio: (p, options) => sendAsDoc('sendAudio', p, options),
    sendAnimation: (p, options) => sendAsDoc('sendAnimation', p, options),
    sendVideoNote: (p, options) => sendAsDoc('sendVideoNote', p, options),
    sendVoice: (p, options) => sendAsDoc('sendVoice', p, options),

    async editMessageText(p) {
      noInlineMessage(p);
      const peerId = peerOf(p.chat_id);
      const cmid = messageIdOf(p.message_id);
      const text = toPlainText(String(p.text ?? ''), p.parse_mode);
      const markup = await keyboards.convert(p.reply_markup, { peerId, conversationMessageId: cmid });
      if (markup.keyboard && !markup.inline) throw new UnsupportedPayloadError('editMessageText: only an inline keyboard belongs to a message');
      await edit(peerId, cmid, { message: text, ...(markup.keyboard ? { keyboard: markup.keyboard } : {}) });
      return tgMessage(peerId, cmid, { text, edit_date: unix() });
    },

    async editMessageCaption(p) {
      noInlineMessage(p);
      const peerId = peerOf(p.chat_id);
      const cmid = messageIdOf(p.message_id);
      const { attachment } = await current(peerId, cmid);
      const caption = toPlainText(String(p.caption ?? ''), p.parse_mode);
      const markup = await keyboards.convert(p.reply_markup, { peerId, conversationMessageId: cmid });
      await edit(peerId, cmid, { message: caption, attachment, ...(markup.keyboard ? { keyboard: markup.keyboard } : {}) });
      return tgMessage(peerId, cmid, { caption, edit_date: unix() });
    },

    async editMessageReplyMarkup(p) {
      noInlineMessage(p);
      const peerId = peerOf(p.chat_id);
      const cmid = messageIdOf(p.message_id);
      const { text, attachment } = await current(peerId, cmid);
      const markup = await keyboards.convert(p.reply_markup, { peerId, conversationMessageId: cmid });
      if (markup.keyboard && !markup.inline) throw new UnsupportedPayloadError('editMessageReplyMarkup: only an inline keyboard belongs to a message');
      await edit(peerId, cmid, { message: text, ...(attachment ? { attachment } : {}), ...(markup.keyboard ? { keyboard: markup.keyboard } : {}) });
      return tgMessage(peerId, cmid, { text, edit_date: unix() });
    },

    async deleteMessage(p) {
      const peerId = peerOf(p.chat_id);
      const cmid = messageIdOf(p.message_id);
      await call('messages.delete', { peer_id: peerId, cmids: cmid, delete_for_all: 1 });
      return true;
    },

    async answerCallbackQuery(p) {
      const q = parseCallbackQueryId(String(p.callback_query_id ?? ''));
      if (!q) throw new UnsupportedPayloadError(`callback_query_id ${String(p.callback_query_id)} did not come from VK`);
      let eventData: Payload | undefined;
      if (typeof p.url === 'string') eventData = { type: 'open_link', link: p.url };
      else if (typeof p.text === 'string' && p.text !== '') {
        // VK's snackbar holds 90 characters; Telegram's alert up to 200.
        eventData = { type: 'show_snackbar', text: clip(p.text, SNACKBAR_MAX) };
      }
      await call('messages.sendMessageEventAnswer', {
        event_id: q.eventId,
        user_id: q.userId,
        peer_id: q.peerId,
        ...(eventData ? { event_data: JSON.stringify(eventData) } : {}),
      });
      return true;
    },

    async sendChatAction(p) {
      peerOf(p.chat_id);
      return true;
    },
  };

  return {
    methods: Object.keys(table),
    async execute(method, payload, options = {}) {
      const handler = Object.hasOwn(table, method) ? table[method] : undefined;
      if (!handler) throw new UnsupportedBotApiMethodError(method);
      return handler(payload, options);
    },
    async turnPage({ token, page, peerId, conversationMessageId }) {
      const record = await store.get<KeyboardPages>(pagesKind(peerId), token);
      const keyboard = record?.pages[page];
      if (!record || !keyboard) return false;
      if (record.inline && conversationMessageId !== undefined) {
        // The text is not kept with the pages (personal data stays out of Redis): VK has it.
        const { text, attachment } = await current(peerId, conversationMessageId);
        await edit(peerId, conversationMessageId, { message: text, ...(attachment ? { attachment } : {}), keyboard: JSON.stringify(keyboard) });
      } else {
        // A persistent keyboard changes only with a new message.
        await send(peerId, { message: `${page + 1}/${record.pages.length}`, keyboard: JSON.stringify(keyboard) });
      }
      return true;
    },
    async ackEvent({ eventId, userId, peerId }) {
      await call('messages.sendMessageEventAnswer', { event_id: eventId, user_id: userId, peer_id: peerId });
    },
  };
}

async function defaultDownload(url: string): Promise<Buffer> {
  const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  if (!res.ok) throw new UnsupportedPayloadError(`${url} answered ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

async function collect(raw: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<Buffer> {
  if (raw instanceof Uint8Array) return Buffer.from(raw);
  const chunks: Uint8Array[] = [];
  for await (const chunk of raw as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
