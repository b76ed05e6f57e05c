import { createHash, randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { createDeliveryQueue, type DeliveryQueue } from './callback-delivery.js';
import { createFakeDocs, type FakeVkStoredDoc } from './docs.js';
import { VK_ERROR_MESSAGES, VkApiError, invalidParam } from './errors.js';
import { EXECUTE_MAX_CALLS, parseExecuteCode } from './execute.js';
import { sniffImage, type ImageInfo } from './image.js';
import { parseKeyboard, type FakeVkButton, type FakeVkKeyboard } from './keyboard.js';
import { parseMultipart } from './multipart.js';
import { createSlidingWindow } from './rate-limit.js';
import type {
  CreateGroupInput,
  CreateUserInput,
  FakeVkAttachment,
  FakeVkCallRecord,
  FakeVkCallbackEvent,
  FakeVkConversation,
  FakeVkConversationChange,
  FakeVkDeliveryAttempt,
  FakeVkDeliveryState,
  FakeVkGroupInfo,
  FakeVkMessage,
  FakeVkOptions,
  FakeVkPhoto,
  FakeVkPhotoSize,
  FakeVkSnackbar,
  FakeVkUser,
  FaultSpec,
  UserAction,
} from './types.js';

/** The fake VK API server plus the user simulator and inspection helpers. */
export interface FakeVk {
  readonly app: FastifyInstance;
  /**
   * A keep-alive http.Agent to pass to vk-io as `agent`: vk-io defaults to https.globalAgent,
   * which refuses the fake's plain-http URLs. Destroyed by `close()`.
   */
  readonly agent: Agent;
  /** Starts listening; returns the `apiBaseUrl` for vk-io (`http://host:port/method`). */
  listen(port?: number, host?: string): Promise<string>;
  /** The `apiBaseUrl`; throws before `listen`. */
  readonly apiBaseUrl: string;
  close(): Promise<void>;

  createGroup(input: CreateGroupInput): FakeVkGroupInfo;
  createUser(input: CreateUserInput): FakeVkUser;
  getUser(id: number): FakeVkUser | undefined;
  /** Confirms the endpoint (type "confirmation" → must answer the code), then starts delivery. */
  setCallbackUrl(groupId: number, url: string): Promise<void>;
  deliveryState(groupId: number): FakeVkDeliveryState;
  /** Un-pauses delivery after repeated failures; the failed event is retried first. */
  resumeDelivery(groupId: number): void;
  deliveries(groupId?: number): FakeVkDeliveryAttempt[];
  events(groupId?: number): FakeVkCallbackEvent[];

  sendText(
    groupId: number,
    userId: number,
    text: string,
    /** `ref`/`refSource`: the user came through a link with ?ref=… (VK puts them on the message). */
    extra?: { payload?: string | object; attachments?: FakeVkAttachment[]; ref?: string; refSource?: string },
  ): UserAction<FakeVkMessage>;
  /**
   * A file as a user attaches it: stored by the fake and served at its URL, shaped as VK's
   * message_new carries it (photo sizes, doc url, audio_message link_ogg/link_mp3, sticker images).
   */
  userFile(input: { type: 'photo' | 'doc' | 'audio_message' | 'sticker'; data: Buffer; title?: string; ownerId: number }): FakeVkAttachment;
  /**
   * A document or voice message the community saved (docs.save), by its attachment string
   * (`doc-1_5_key`) or `<owner>_<id>`: its bytes, title, type and the peer it was uploaded for.
   */
  doc(ref: string): FakeVkStoredDoc | undefined;
  pressCallback(
    groupId: number,
    userId: number,
    conversationMessageId: number,
    payload: unknown,
  ): UserAction<{ eventId: string }>;
  /**
   * Presses a button the user can see by its label: the inline keyboard of message
   * `conversationMessageId` if given, else the persistent keyboard, else the newest inline one.
   */
  pressButton(
    groupId: number,
    userId: number,
    label: string,
    options?: { conversationMessageId?: number },
  ): UserAction<FakeVkMessage | { eventId: string }>;
  allowMessages(groupId: number, userId: number, key?: string): UserAction<void>;
  denyMessages(groupId: number, userId: number): UserAction<void>;

  failNext(method: string, fault: FaultSpec): void;

  calls(groupId?: number): FakeVkCallRecord[];
  conversation(groupId: number, peerId: number): FakeVkConversation;
  lastBotMessage(groupId: number, peerId: number): FakeVkMessage | undefined;
  waitFor<T>(predicate: () => T | undefined | null | false, options?: { timeoutMs?: number }): Promise<T>;
  waitForCalls(
    method: string,
    count: number,
    options?: { groupId?: number; timeoutMs?: number },
  ): Promise<FakeVkCallRecord[]>;
  onCall(listener: (call: FakeVkCallRecord) => void): () => void;
  onConversationMessage(listener: (change: FakeVkConversationChange) => void): () => void;
  onEvent(listener: (event: FakeVkCallbackEvent) => void): () => void;
  /**
   * Forgets dialogs, calls, events, faults, uploads and rate windows; keeps communities,
   * users and confirmed callback URLs. `{ full: true }` forgets everything.
   */
  reset(options?: { full?: boolean }): void;
}

interface PeerState {
  peerId: number;
  messages: FakeVkMessage[];
  byCmid: Map<number, FakeVkMessage>;
  nextCmid: number;
  keyboard: FakeVkKeyboard | null;
  randomIds: Map<string, { messageId: number; cmid: number; at: number }>;
  randomIdQueue: { key: string; at: number }[];
  randomIdHead: number;
  flood: Map<string, number[]>;
  eventAnswers: FakeVkSnackbar[];
}

interface GroupState {
  id: number;
  token: string;
  confirmationCode: string;
  secret: string | undefined;
  name: string;
  screenName: string;
  callbackUrl: string | null;
  confirmed: boolean;
  peers: Map<number, PeerState>;
  messagesById: Map<number, FakeVkMessage>;
  nextMessageId: number;
  permissions: Map<number, boolean>;
  messageEvents: Map<string, MessageEventState>;
  delivery: DeliveryQueue;
}

interface MessageEventState {
  eventId: string;
  userId: number;
  peerId: number;
  cmid: number;
  expiresAt: number;
  answered: boolean;
}

interface StoredPhoto {
  photo: FakeVkPhoto;
  data: Buffer;
  info: ImageInfo;
}

interface PendingUpload {
  groupId: number;
  data: Buffer;
  info: ImageInfo;
}

interface CallContext {
  group: GroupState;
  params: Record<string, string>;
}

type Handler = (ctx: CallContext) => unknown;

interface Fault {
  method: string;
  spec: FaultSpec;
  remaining: number;
}

const CHAT_PEER_OFFSET = 2_000_000_000;
const MAX_TEXT = 9000;
const MAX_PEER_IDS = 100;
const BUTTON_ACTIONS = ['text', 'vkpay', 'open_app', 'location', 'open_link', 'callback', 'intent_subscribe', 'intent_unsubscribe'];

function toInt(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? Math.trunc(n) : undefined;
}

function requireInt(params: Record<string, string>, name: string): number {
  const n = toInt(params[name]);
  if (n === undefined) throw invalidParam(`${name} is undefined`);
  return n;
}

function intList(value: string | undefined): number[] {
  if (value === undefined || value.trim() === '') return [];
  return value.split(',').map((part) => {
    const n = toInt(part.replace(/^id/, ''));
    if (n === undefined) throw invalidParam(`invalid id list: ${value}`);
    return n;
  });
}

/** Execute arguments arrive as JSON values; the HTTP API sees everything as strings. */
function stringifyParams(raw: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined || value === null) continue;
    out[key] = typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return out;
}

function copyMessage(message: FakeVkMessage): FakeVkMessage {
  return { ...message, attachments: [...message.attachments], editHistory: [...message.editHistory] };
}

/**
 * Creates an in-memory VK API server for one test/benchmark/sandbox: communities with
 * tokens, users, dialogs, Callback API delivery to the bot and the methods a community bot
 * calls, with VK's envelopes, error codes and limits.
 */
export function createFakeVk(options: FakeVkOptions = {}): FakeVk {
  const now = options.now ?? Date.now;
  const apiVersion = options.apiVersion ?? '5.199';
  const recordCalls = options.recordCalls ?? true;
  const rateLimit = options.rateLimit === undefined ? { perSecond: 20 } : options.rateLimit;
  const floodControl = options.floodControl === undefined ? { sameTextLimit: 5, windowMs: 10_000 } : options.floodControl;
  const randomIdTtlMs = options.randomIdTtlMs ?? 3_600_000;
  const messageEventTtlMs = options.messageEventTtlMs ?? 60_000;
  const editWindowMs = options.editWindowMs ?? 86_400_000;
  const retryDelaysMs = options.callback?.retryDelaysMs ?? [20, 40, 80, 160, 320];
  const callbackTimeoutMs = options.callback?.timeoutMs ?? 5000;

  const app = Fastify({ logger: options.logger ?? false });
  const agent = new Agent({ keepAlive: true });
  const uploadSecret = randomBytes(16).toString('hex');
  const eventIdPrefix = randomBytes(12).toString('hex');

  const groups = new Map<number, GroupState>();
  const groupsByToken = new Map<string, GroupState>();
  const users = new Map<number, FakeVkUser>();
  const rateWindows = new Map<string, (at: number) => boolean>();
  const photos = new Map<string, StoredPhoto>();
  const pendingUploads = new Map<string, PendingUpload>();
  const userFiles = new Map<string, { data: Buffer; mime: string }>();
  let nextUserFileId = 1;
  let faults: Fault[] = [];
  let callLog: FakeVkCallRecord[] = [];
  let eventLog: FakeVkCallbackEvent[] = [];
  let deliveryLog: FakeVkDeliveryAttempt[] = [];
  let callCounts = new Map<string, number>();
  let nextEventSeq = 0;
  let nextPhotoId = 457_239_017;
  let nextDocId = 668_100_001;
  let nextUserId = 100_000_001;
  let origin: string | null = null;

  const waiters = new Set<() => void>();
  const callListeners = new Set<(call: FakeVkCallRecord) => void>();
  const changeListeners = new Set<(change: FakeVkConversationChange) => void>();
  const eventListeners = new Set<(event: FakeVkCallbackEvent) => void>();

  function notify(): void {
    for (const waiter of [...waiters]) waiter();
  }

  function emitChange(kind: FakeVkConversationChange['kind'], group: GroupState, message: FakeVkMessage): void {
    if (changeListeners.size > 0) {
      const change = { kind, groupId: group.id, peerId: message.peerId, message: copyMessage(message) };
      for (const listener of changeListeners) listener(change);
    }
    notify();
  }

  function publicOrigin(): string {
    return origin ?? 'http://127.0.0.1:0';
  }

  const fakeDocs = createFakeDocs({ now, origin: publicOrigin, nextId: () => nextDocId++ });

  // ---------------------------------------------------------------- state helpers

  function getGroup(groupId: number): GroupState {
    const group = groups.get(groupId);
    if (!group) throw new Error(`fake VK: no community ${groupId}; call createGroup first`);
    return group;
  }

  function peerOf(group: GroupState, peerId: number): PeerState {
    let peer = group.peers.get(peerId);
    if (!peer) {
      peer = {
        peerId,
        messages: [],
        byCmid: new Map(),
        nextCmid: 1,
        keyboard: null,
        randomIds: new Map(),
        randomIdQueue: [],
        randomIdHead: 0,
        flood: new Map(),
        eventAnswers: [],
      };
      group.peers.set(peerId, peer);
    }
    return peer;
  }

  function ensureUser(userId: number): FakeVkUser {
    return users.get(userId) ?? api.createUser({ id: userId, firstName: `User${userId}` });
  }

  function newDelivery(groupId: number): DeliveryQueue {
    return createDeliveryQueue({
      groupId,
      retryDelaysMs,
      timeoutMs: callbackTimeoutMs,
      now,
      onAttempt(attempt) {
        deliveryLog.push(attempt);
        notify();
      },
      onStateChange: notify,
    });
  }

  function storeMessage(
    group: GroupState,
    peer: PeerState,
    fields: Pick<FakeVkMessage, 'fromId' | 'out' | 'text' | 'attachments' | 'randomId'> & {
      payload?: string | undefined;
      ref?: string | undefined;
      refSource?: string | undefined;
      keyboard?: FakeVkKeyboard | undefined;
    },
  ): FakeVkMessage {
    const at = now();
    const message: FakeVkMessage = {
      id: group.nextMessageId++,
      conversationMessageId: peer.nextCmid++,
      peerId: peer.peerId,
      fromId: fields.fromId,
      out: fields.out,
      text: fields.text,
      date: Math.floor(at / 1000),
      createdAt: at,
      randomId: fields.randomId,
      attachments: fields.attachments,
      edited: false,
      editHistory: [],
      deleted: false,
    };
    if (fields.payload !== undefined) message.payload = fields.payload;
    if (fields.ref !== undefined) message.ref = fields.ref;
    if (fields.refSource !== undefined) message.refSource = fields.refSource;
    if (fields.keyboard !== undefined) message.keyboard = fields.keyboard;
    peer.messages.push(message);
    peer.byCmid.set(message.conversationMessageId, message);
    group.messagesById.set(message.id, message);
    return message;
  }

  function rawAttachment(attachment: FakeVkAttachment): Record<string, unknown> {
    if ('photo' in attachment) return { type: 'photo', photo: attachment.photo };
    if ('object' in attachment) return { type: attachment.type, [attachment.type]: attachment.object };
    return { type: attachment.type };
  }

  function rawMessage(message: FakeVkMessage): Record<string, unknown> {
    const raw: Record<string, unknown> = {
      date: message.date,
      from_id: message.fromId,
      id: message.id,
      out: message.out ? 1 : 0,
      version: message.id,
      attachments: message.attachments.map(rawAttachment),
      conversation_message_id: message.conversationMessageId,
      fwd_messages: [],
      important: false,
      is_hidden: false,
      peer_id: message.peerId,
      random_id: message.randomId,
      text: message.text,
    };
    if (message.payload !== undefined) raw.payload = message.payload;
    if (message.ref !== undefined) raw.ref = message.ref;
    if (message.refSource !== undefined) raw.ref_source = message.refSource;
    if (message.keyboard !== undefined) {
      raw.keyboard = {
        one_time: message.keyboard.oneTime,
        inline: message.keyboard.inline,
        buttons: message.keyboard.buttons.map((row) =>
          row.map((b) => (b.color === undefined ? { action: b.action } : { action: b.action, color: b.color })),
        ),
      };
    }
    if (message.edited) raw.update_time = Math.floor(now() / 1000);
    return raw;
  }

  function resolveAttachments(attachment: string | undefined): FakeVkAttachment[] {
    if (attachment === undefined || attachment.trim() === '') return [];
    return attachment
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0)
      .map((raw) => {
        const m = /^([a-z_]+)(-?\d+)_(\d+)(?:_([A-Za-z0-9]+))?$/.exec(raw);
        if (m?.[1] === 'photo') {
          const stored = photos.get(`${m[2]}_${m[3]}`);
          if (stored) return { type: 'photo' as const, photo: stored.photo };
        }
        if (m && (m[1] === 'doc' || m[1] === 'audio_message')) {
          const doc = fakeDocs.resolve(m[1], m[2]!, m[3]!);
          if (doc) return doc;
        }
        return { type: m?.[1] ?? 'unknown', raw };
      });
  }

  // ---------------------------------------------------------------- callback events

  function nextEventId(): string {
    nextEventSeq += 1;
    return eventIdPrefix + nextEventSeq.toString(16).padStart(16, '0');
  }

  function emitEvent(group: GroupState, peerKey: number, type: string, object: Record<string, unknown>): {
    event: FakeVkCallbackEvent;
    delivered: Promise<void>;
  } {
    const event: FakeVkCallbackEvent = { type, object, group_id: group.id, event_id: nextEventId(), v: apiVersion };
    if (group.secret !== undefined) event.secret = group.secret;
    eventLog.push(event);
    for (const listener of eventListeners) listener(event);
    const delivered = group.delivery.enqueue(peerKey, event);
    notify();
    return { event, delivered };
  }

  async function confirm(group: GroupState, url: string): Promise<void> {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'confirmation', group_id: group.id }),
      signal: AbortSignal.timeout(callbackTimeoutMs),
    });
    const body = await res.text();
    if (res.status !== 200 || body !== group.confirmationCode) {
      throw new Error(
        `fake VK: callback server ${url} answered ${res.status} ${JSON.stringify(body.slice(0, 100))}, expected the confirmation code`,
      );
    }
    group.callbackUrl = url;
    group.confirmed = true;
    group.delivery.setEndpoint(url);
  }

  // ---------------------------------------------------------------- sending

  function checkFlood(peer: PeerState, text: string, at: number): void {
    if (floodControl === false || text === '') return;
    let stamps = peer.flood.get(text);
    if (stamps) {
      let drop = 0;
      while (drop < stamps.length && at - (stamps[drop] ?? 0) >= floodControl.windowMs) drop += 1;
      if (drop > 0) stamps.splice(0, drop);
    } else {
      if (peer.flood.size >= 64) {
        for (const [key, list] of peer.flood) {
          const last = list[list.length - 1];
          if (last === undefined || at - last >= floodControl.windowMs) peer.flood.delete(key);
        }
      }
      stamps = [];
      peer.flood.set(text, stamps);
    }
    if (stamps.length >= floodControl.sameTextLimit) throw new VkApiError(9);
    stamps.push(at);
  }

  function rememberedRandomId(peer: PeerState, key: string, at: number): { messageId: number; cmid: number } | undefined {
    const queue = peer.randomIdQueue;
    while (peer.randomIdHead < queue.length) {
      const head = queue[peer.randomIdHead];
      if (!head || at - head.at < randomIdTtlMs) break;
      if (peer.randomIds.get(head.key)?.at === head.at) peer.randomIds.delete(head.key);
      peer.randomIdHead += 1;
    }
    if (peer.randomIdHead > 1024 && peer.randomIdHead * 2 > queue.length) {
      peer.randomIdQueue = queue.slice(peer.randomIdHead);
      peer.randomIdHead = 0;
    }
    return peer.randomIds.get(key);
  }

  function sendToPeer(
    group: GroupState,
    peerId: number,
    randomId: string,
    content: { text: string; attachments: FakeVkAttachment[]; keyboard: FakeVkKeyboard | undefined; payload: string | undefined },
  ): { messageId: number; cmid: number } {
    if (peerId >= CHAT_PEER_OFFSET) throw new VkApiError(917, "You don't have access to this chat");
    if (peerId <= 0) throw new VkApiError(901);
    const user = users.get(peerId);
    if (!user) throw new VkApiError(901);
    if (!(group.permissions.get(peerId) ?? user.allowsMessages)) throw new VkApiError(901);
    if (user.privacyClosed) throw new VkApiError(902);
    const peer = peerOf(group, peerId);
    const at = now();
    const dedupe = randomId !== '0';
    if (dedupe) {
      const seen = rememberedRandomId(peer, randomId, at);
      if (seen) return seen;
    }
    checkFlood(peer, content.text, at);
    const message = storeMessage(group, peer, {
      fromId: -group.id,
      out: true,
      text: content.text,
      attachments: content.attachments,
      randomId: Number(randomId),
      payload: content.payload,
      keyboard: content.keyboard,
    });
    if (content.keyboard !== undefined && !content.keyboard.inline) {
      peer.keyboard = content.keyboard.buttons.length > 0 ? content.keyboard : null;
    }
    const result = { messageId: message.id, cmid: message.conversationMessageId };
    if (dedupe) {
      peer.randomIds.set(randomId, { ...result, at });
      peer.randomIdQueue.push({ key: randomId, at });
    }
    emitChange('new', group, message);
    return result;
  }

  function findMessage(group: GroupState, params: Record<string, string>): FakeVkMessage {
    const peerId = requireInt(params, 'peer_id');
    const cmid = toInt(params.conversation_message_id ?? params.cmid);
    const messageId = toInt(params.message_id);
    let message: FakeVkMessage | undefined;
    if (cmid !== undefined) message = group.peers.get(peerId)?.byCmid.get(cmid);
    else if (messageId !== undefined) message = group.messagesById.get(messageId);
    else throw invalidParam('message_id is undefined');
    if (!message || message.deleted || message.peerId !== peerId) throw invalidParam('message not found');
    return message;
  }

  // ---------------------------------------------------------------- API methods

  function userObject(user: FakeVkUser, fields: Set<string>): Record<string, unknown> {
    const out: Record<string, unknown> = {
      id: user.id,
      first_name: user.firstName,
      last_name: user.lastName,
      can_access_closed: true,
      is_closed: false,
    };
    if (fields.has('sex')) out.sex = user.sex;
    if (fields.has('screen_name')) out.screen_name = user.screenName;
    if (fields.has('domain')) out.domain = user.screenName;
    for (const size of [50, 100, 200]) {
      if (fields.has(`photo_${size}`)) out[`photo_${size}`] = `${publicOrigin()}/images/camera_${size}.png`;
    }
    return out;
  }

  function groupObject(group: GroupState): Record<string, unknown> {
    return {
      id: group.id,
      name: group.name,
      screen_name: group.screenName,
      is_closed: 0,
      type: 'group',
      photo_50: `${publicOrigin()}/images/community_50.png`,
      photo_100: `${publicOrigin()}/images/community_100.png`,
      photo_200: `${publicOrigin()}/images/community_200.png`,
    };
  }

  function photoSizes(id: string, info: ImageInfo): { sizes: FakeVkPhotoSize[]; orig: FakeVkPhotoSize } {
    const url = `${publicOrigin()}/photos/${id}.${info.format === 'jpeg' ? 'jpg' : info.format}`;
    const scale = (max: number): { width: number; height: number } => {
      const longest = Math.max(info.width, info.height);
      if (longest <= max || longest === 0) return { width: info.width, height: info.height };
      const k = max / longest;
      return { width: Math.round(info.width * k), height: Math.round(info.height * k) };
    };
    const sizes: FakeVkPhotoSize[] = (
      [
        ['s', 75],
        ['m', 130],
        ['x', 604],
        ['y', 807],
        ['z', 1080],
        ['w', 2560],
      ] as const
    ).map(([type, max]) => ({ type, url, ...scale(max) }));
    return { sizes, orig: { type: 'base', url, width: info.width, height: info.height } };
  }

  function uploadHash(server: string, photo: string): string {
    return createHash('sha1').update(`${uploadSecret}|${server}|${photo}`).digest('hex');
  }

  const handlers: Record<string, Handler> = {
    ...fakeDocs.handlers,
    'messages.send': ({ group, params }) => {
      const multi = params.peer_ids !== undefined;
      const peers = multi ? intList(params.peer_ids) : [];
      if (multi && peers.length === 0) throw invalidParam('peer_ids is undefined');
      if (peers.length > MAX_PEER_IDS) throw invalidParam(`peer_ids: no more than ${MAX_PEER_IDS} recipients`);
      if (!multi) {
        const single = toInt(params.peer_id ?? params.user_id);
        if (single === undefined) throw invalidParam('peer_id is undefined');
        peers.push(single);
      }
      const randomId = params.random_id;
      if (randomId === undefined || toInt(randomId) === undefined) throw invalidParam('random_id is a required parameter');
      const text = params.message ?? '';
      if (text.length > MAX_TEXT) throw new VkApiError(914);
      const hasOther = (params.attachment ?? '').trim() !== '' || params.sticker_id !== undefined || params.forward_messages !== undefined || params.forward !== undefined;
      if (text.trim() === '' && !hasOther) throw invalidParam('message is empty or invalid');
      const keyboard = params.keyboard !== undefined && params.keyboard !== '' ? parseKeyboard(params.keyboard) : undefined;
      const content = { text, attachments: resolveAttachments(params.attachment), keyboard, payload: params.payload };
      const key = String(toInt(randomId));
      if (!multi) return sendToPeer(group, peers[0] ?? 0, key, content).messageId;
      return peers.map((peerId) => {
        try {
          const sent = sendToPeer(group, peerId, key, content);
          return { peer_id: peerId, message_id: sent.messageId, conversation_message_id: sent.cmid };
        } catch (error) {
          if (!(error instanceof VkApiError)) throw error;
          return { peer_id: peerId, error: { code: error.code, description: error.message } };
        }
      });
    },

    'messages.edit': ({ group, params }) => {
      const message = findMessage(group, params);
      if (!message.out) throw new VkApiError(15);
      if (now() - message.createdAt > editWindowMs) throw new VkApiError(909);
      const text = params.message ?? '';
      if (text.length > MAX_TEXT) throw new VkApiError(914);
      const attachments = resolveAttachments(params.attachment);
      if (text.trim() === '' && attachments.length === 0) throw invalidParam('message is empty or invalid');
      let keyboard: FakeVkKeyboard | undefined;
      if (params.keyboard !== undefined && params.keyboard !== '') {
        keyboard = parseKeyboard(params.keyboard);
        // Only an inline keyboard belongs to a message; the persistent one cannot be edited in.
        if (!keyboard.inline) throw new VkApiError(911);
      }
      message.editHistory.push(message.text);
      message.text = text;
      message.attachments = attachments;
      if (keyboard) message.keyboard = keyboard;
      else delete message.keyboard;
      message.edited = true;
      emitChange('edit', group, message);
      return 1;
    },

    'messages.delete': ({ group, params }) => {
      const forAll = params.delete_for_all === '1' || params.delete_for_all === 'true';
      const cmids = intList(params.cmids ?? params.conversation_message_ids);
      const ids = intList(params.message_ids);
      const byCmid = cmids.length > 0;
      if (!byCmid && ids.length === 0) throw invalidParam('message_ids is undefined');
      const peerId = byCmid ? requireInt(params, 'peer_id') : 0;
      const targets = (byCmid ? cmids : ids).map((id) => {
        const message = byCmid ? group.peers.get(peerId)?.byCmid.get(id) : group.messagesById.get(id);
        if (!message || message.deleted) throw invalidParam('message not found');
        if (forAll && (!message.out || now() - message.createdAt > editWindowMs)) throw new VkApiError(924);
        return message;
      });
      for (const message of targets) {
        // Without delete_for_all the message disappears only on the community's side.
        if (!forAll) continue;
        message.deleted = true;
        emitChange('delete', group, message);
      }
      if (byCmid) {
        return targets.map((m) => ({ peer_id: m.peerId, message_id: m.id, conversation_message_id: m.conversationMessageId, response: 1 }));
      }
      return Object.fromEntries(targets.map((m) => [String(m.id), 1]));
    },

    'messages.sendMessageEventAnswer': ({ group, params }) => {
      const eventId = params.event_id;
      const userId = requireInt(params, 'user_id');
      const peerId = requireInt(params, 'peer_id');
      if (eventId === undefined || eventId === '') throw invalidParam('event_id is undefined');
      const state = group.messageEvents.get(eventId);
      if (!state || state.answered || state.expiresAt <= now() || state.userId !== userId || state.peerId !== peerId) {
        throw invalidParam('event_id is invalid or expired');
      }
      let eventData: Record<string, unknown> | null = null;
      if (params.event_data !== undefined && params.event_data !== '') {
        let parsed: unknown;
        try {
          parsed = JSON.parse(params.event_data);
        } catch {
          throw invalidParam('event_data is invalid');
        }
        if (typeof parsed !== 'object' || parsed === null) throw invalidParam('event_data is invalid');
        const data = parsed as Record<string, unknown>;
        const ok =
          (data.type === 'show_snackbar' && typeof data.text === 'string' && data.text.length > 0 && data.text.length <= 90) ||
          (data.type === 'open_link' && typeof data.link === 'string' && /^https?:\/\//.test(data.link)) ||
          (data.type === 'open_app' && data.app_id !== undefined);
        if (!ok) throw invalidParam('event_data is invalid');
        eventData = data;
      }
      state.answered = true;
      peerOf(group, peerId).eventAnswers.push({
        eventId,
        userId,
        peerId,
        conversationMessageId: state.cmid,
        eventData,
        at: now(),
      });
      notify();
      return 1;
    },

    'messages.getById': ({ group, params }) => {
      const items = intList(params.message_ids)
        .map((id) => group.messagesById.get(id))
        .filter((m): m is FakeVkMessage => m !== undefined && !m.deleted)
        .map(rawMessage);
      return { count: items.length, items };
    },

    'messages.getByConversationMessageId': ({ group, params }) => {
      const peer = group.peers.get(requireInt(params, 'peer_id'));
      const items = intList(params.conversation_message_ids ?? params.cmids)
        .map((id) => peer?.byCmid.get(id))
        .filter((m): m is FakeVkMessage => m !== undefined && !m.deleted)
        .map(rawMessage);
      return { count: items.length, items };
    },

    'messages.getConversationsById': ({ group, params }) => {
      const items = intList(params.peer_ids).map((peerId) => {
        const user = users.get(peerId);
        const allowed = user !== undefined && (group.permissions.get(peerId) ?? user.allowsMessages) && !user.privacyClosed;
        const peer = group.peers.get(peerId);
        const last = peer?.messages[peer.messages.length - 1];
        return {
          peer: { id: peerId, type: peerId >= CHAT_PEER_OFFSET ? 'chat' : 'user', local_id: peerId },
          last_message_id: last?.id ?? 0,
          last_conversation_message_id: last?.conversationMessageId ?? 0,
          in_read: last?.id ?? 0,
          out_read: last?.id ?? 0,
          is_marked_unread: false,
          important: false,
          can_write: allowed ? { allowed: true } : { allowed: false, reason: user?.privacyClosed ? 902 : 901 },
        };
      });
      return { count: items.length, items };
    },

    'users.get': ({ params }) => {
      const fields = new Set((params.fields ?? '').split(',').map((f) => f.trim()));
      const ids = (params.user_ids ?? params.user_id ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
      return ids.map((ref) => {
        const numeric = toInt(ref.replace(/^id/, ''));
        const user =
          numeric !== undefined ? users.get(numeric) : [...users.values()].find((u) => u.screenName === ref);
        if (!user) {
          if (numeric === undefined) throw invalidParam('Invalid user id');
          return { id: numeric, first_name: 'DELETED', last_name: '', deactivated: 'deleted' };
        }
        return userObject(user, fields);
      });
    },

    'groups.getById': ({ group, params }) => {
      const refs = (params.group_ids ?? params.group_id ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
      const list = refs.length === 0
        ? [group]
        : refs.map((ref) => {
            const numeric = toInt(ref.replace(/^(club|public)/, ''));
            const found = numeric !== undefined ? groups.get(Math.abs(numeric)) : [...groups.values()].find((g) => g.screenName === ref);
            if (!found) throw invalidParam('group_ids is undefined');
            return found;
          });
      return { groups: list.map(groupObject), profiles: [] };
    },

    'groups.getCallbackConfirmationCode': ({ group }) => ({ code: group.confirmationCode }),
    'groups.setCallbackSettings': () => 1,

    'photos.getMessagesUploadServer': ({ group, params }) => {
      const key = randomBytes(8).toString('hex');
      pendingUploads.set(`server:${key}`, { groupId: group.id, data: Buffer.alloc(0), info: { format: 'png', width: 0, height: 0 } });
      void params;
      return {
        album_id: -64,
        upload_url: `${publicOrigin()}/upload/photo/${key}`,
        user_id: 0,
        group_id: group.id,
      };
    },

    'photos.saveMessagesPhoto': ({ group, params }) => {
      const photoParam = params.photo;
      const server = params.server ?? '';
      if (photoParam === undefined) throw invalidParam('photo is undefined');
      if (params.hash !== uploadHash(server, photoParam)) throw new VkApiError(121);
      let list: unknown;
      try {
        list = JSON.parse(photoParam);
      } catch {
        throw invalidParam('photos_list is invalid');
      }
      const first = Array.isArray(list) ? (list[0] as { photo?: unknown } | undefined) : undefined;
      const uploadKey = typeof first?.photo === 'string' ? first.photo : undefined;
      const upload = uploadKey === undefined ? undefined : pendingUploads.get(uploadKey);
      if (uploadKey === undefined || !upload || upload.groupId !== group.id) throw invalidParam('photos_list is invalid');
      pendingUploads.delete(uploadKey);
      const id = nextPhotoId++;
      const ownerId = -group.id;
      const { sizes, orig } = photoSizes(`${ownerId}_${id}`, upload.info);
      const photo: FakeVkPhoto = {
        album_id: -64,
        date: Math.floor(now() / 1000),
        id,
        owner_id: ownerId,
        access_key: randomBytes(9).toString('hex'),
        sizes,
        text: '',
        has_tags: false,
        orig_photo: orig,
      };
      photos.set(`${ownerId}_${id}`, { photo, data: upload.data, info: upload.info });
      return [photo];
    },
  };

  function peerTargets(params: Record<string, string>): number[] {
    const out: number[] = [];
    for (const name of ['peer_id', 'user_id'] as const) {
      const n = toInt(params[name]);
      if (n !== undefined) out.push(n);
    }
    for (const part of (params.peer_ids ?? '').split(',')) {
      const n = toInt(part);
      if (n !== undefined) out.push(n);
    }
    return out;
  }

  function takeFault(group: GroupState, method: string, params: Record<string, string>): void {
    if (faults.length === 0) return;
    const index = faults.findIndex(
      (f) =>
        (f.method === method || f.method === '*') &&
        (f.spec.groupId === undefined || f.spec.groupId === group.id) &&
        (f.spec.peerId === undefined || peerTargets(params).includes(f.spec.peerId)),
    );
    const fault = faults[index];
    if (!fault) return;
    fault.remaining -= 1;
    if (fault.remaining <= 0) faults.splice(index, 1);
    const extra: Record<string, unknown> =
      fault.spec.code === 14
        ? { captcha_sid: randomBytes(6).toString('hex'), captcha_img: `${publicOrigin()}/captcha.php?sid=1` }
        : {};
    throw new VkApiError(fault.spec.code, fault.spec.message, extra);
  }

  function record(call: FakeVkCallRecord): void {
    callCounts.set(call.method, (callCounts.get(call.method) ?? 0) + 1);
    if (call.groupId !== null) {
      const key = `${call.groupId}:${call.method}`;
      callCounts.set(key, (callCounts.get(key) ?? 0) + 1);
    }
    if (recordCalls) callLog.push(call);
    for (const listener of callListeners) listener(call);
    notify();
  }

  function invoke(group: GroupState, method: string, params: Record<string, string>, viaExecute: boolean): unknown {
    const at = now();
    try {
      takeFault(group, method, params);
      const handler = handlers[method];
      if (!handler) throw new VkApiError(3);
      const response = handler({ group, params });
      record({ groupId: group.id, method, params, response, at, viaExecute });
      return response;
    } catch (error) {
      if (error instanceof VkApiError) {
        record({ groupId: group.id, method, params, error: { error_code: error.code, error_msg: error.message }, at, viaExecute });
      }
      throw error;
    }
  }

  function runExecute(group: GroupState, params: Record<string, string>): { response: unknown; execute_errors?: unknown[] } {
    const { calls, array } = parseExecuteCode(params.code ?? '');
    if (calls.length > EXECUTE_MAX_CALLS) {
      throw new VkApiError(13, `${VK_ERROR_MESSAGES[13]}: too many API calls`);
    }
    const errors: { method: string; error_code: number; error_msg: string }[] = [];
    const results = calls.map(({ method, params: raw }) => {
      if (method.startsWith('execute')) throw new VkApiError(13);
      try {
        return invoke(group, method, stringifyParams(raw), true);
      } catch (error) {
        if (!(error instanceof VkApiError)) throw error;
        errors.push({ method, error_code: error.code, error_msg: error.message });
        return false;
      }
    });
    const response = array ? results : results[0];
    return errors.length > 0 ? { response, execute_errors: errors } : { response };
  }

  function errorEnvelope(error: VkApiError, method: string, params: Record<string, string>): { error: Record<string, unknown> } {
    const requestParams = [
      { key: 'method', value: method },
      { key: 'oauth', value: '1' },
      ...Object.entries(params).map(([key, value]) => ({ key, value })),
    ];
    return { error: { error_code: error.code, error_msg: error.message, request_params: requestParams, ...error.extra } };
  }

  /** One HTTP API request, VK's envelope out. */
  function handleApiRequest(method: string, input: Record<string, string>, bearer: string | undefined): unknown {
    const { access_token: tokenParam, ...params } = input;
    const token = tokenParam ?? bearer;
    const at = now();
    const group = token === undefined ? undefined : groupsByToken.get(token);
    if (!group) {
      const error = token === undefined
        ? new VkApiError(5, 'User authorization failed: no access_token passed.')
        : new VkApiError(5);
      record({ groupId: null, method, params, error: { error_code: 5, error_msg: error.message }, at, viaExecute: false });
      return errorEnvelope(error, method, params);
    }
    try {
      if (rateLimit !== false) {
        let allow = rateWindows.get(group.token);
        if (!allow) {
          allow = createSlidingWindow(rateLimit.perSecond, 1000);
          rateWindows.set(group.token, allow);
        }
        if (!allow(at)) throw new VkApiError(6);
      }
      if (method === 'execute') {
        const out = runExecute(group, params);
        record({ groupId: group.id, method, params, response: out.response, at, viaExecute: false });
        return out;
      }
      return { response: invoke(group, method, params, false) };
    } catch (caught) {
      // A bug in a handler must still look like VK (error 10), not an HTTP 500.
      const error = caught instanceof VkApiError ? caught : new VkApiError(10, `Internal server error: ${String(caught)}`);
      if (method === 'execute' || error.code === 6 || !(caught instanceof VkApiError)) {
        record({ groupId: group.id, method, params, error: { error_code: error.code, error_msg: error.message }, at, viaExecute: false });
      }
      return errorEnvelope(error, method, params);
    }
  }

  // ---------------------------------------------------------------- HTTP

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });
  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer', bodyLimit: 52_428_800 }, (_req, body, done) => {
    done(null, body);
  });

  app.route({
    method: ['GET', 'POST'],
    url: '/method/:method',
    handler: async (request, reply) => {
      const { method } = request.params as { method: string };
      const input: Record<string, string> = {};
      for (const [k, v] of Object.entries((request.query ?? {}) as Record<string, unknown>)) {
        if (typeof v === 'string') input[k] = v;
      }
      const body = request.body;
      if (Buffer.isBuffer(body)) {
        for (const part of parseMultipart(body, String(request.headers['content-type'] ?? ''))) {
          if (part.filename === undefined) input[part.name] = part.data.toString('utf8');
        }
      } else if (body !== null && typeof body === 'object') {
        for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
          if (typeof v === 'string') input[k] = v;
        }
      }
      const auth = request.headers.authorization;
      const bearer = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
      reply.header('content-type', 'application/json; charset=utf-8');
      return handleApiRequest(method, input, bearer);
    },
  });

  app.post('/upload/photo/:key', async (request, reply) => {
    const { key } = request.params as { key: string };
    const server = pendingUploads.get(`server:${key}`);
    if (!server) return reply.code(404).send({ error: 'upload url expired' });
    const body = request.body;
    const parts = Buffer.isBuffer(body) ? parseMultipart(body, String(request.headers['content-type'] ?? '')) : [];
    const file = parts.find((p) => p.name === 'photo' || p.name === 'file' || p.name === 'file1');
    const info = file ? sniffImage(file.data) : null;
    const serverId = String(800_000 + (server.groupId % 100_000));
    let photo = '[]';
    if (file && info) {
      const uploadKey = `${randomBytes(16).toString('hex')}:w`;
      pendingUploads.set(uploadKey, { groupId: server.groupId, data: Buffer.from(file.data), info });
      photo = JSON.stringify([{ photo: uploadKey, sizes: [], latitude: 0, longitude: 0, kid: randomBytes(16).toString('hex') }]);
    }
    return { server: Number(serverId), photo, hash: uploadHash(serverId, photo) };
  });

  fakeDocs.routes(app);

  app.get('/files/:id', async (request, reply) => {
    const stored = userFiles.get((request.params as { id: string }).id.replace(/\.[a-z0-9]+$/, ''));
    if (!stored) return reply.code(404).send('not found');
    return reply.type(stored.mime).send(stored.data);
  });

  app.get('/photos/:file', async (request, reply) => {
    const { file } = request.params as { file: string };
    const stored = photos.get(file.replace(/\.[a-z]+$/, ''));
    if (!stored) return reply.code(404).send('not found');
    return reply.type(`image/${stored.info.format}`).send(stored.data);
  });

  // ---------------------------------------------------------------- public API

  function userAction<T>(result: T, emitted: { event: FakeVkCallbackEvent; delivered: Promise<void> }): UserAction<T> {
    return { result, event: emitted.event, delivered: emitted.delivered };
  }

  function findButton(group: GroupState, userId: number, label: string, cmid: number | undefined): { button: FakeVkButton; message?: FakeVkMessage } {
    const peer = peerOf(group, userId);
    const inKeyboard = (kb: FakeVkKeyboard | undefined): FakeVkButton | undefined =>
      kb?.buttons.flat().find((b) => b.label === label);
    if (cmid !== undefined) {
      const message = peer.byCmid.get(cmid);
      const button = message && !message.deleted ? inKeyboard(message.keyboard) : undefined;
      if (!button || !message) throw new Error(`fake VK: no button "${label}" on message ${cmid}`);
      return { button, message };
    }
    const persistent = inKeyboard(peer.keyboard ?? undefined);
    if (persistent) return { button: persistent };
    for (let i = peer.messages.length - 1; i >= 0; i -= 1) {
      const message = peer.messages[i];
      if (!message || message.deleted || !message.keyboard?.inline) continue;
      const button = inKeyboard(message.keyboard);
      if (button) return { button, message };
    }
    throw new Error(`fake VK: user ${userId} sees no button "${label}"`);
  }

  const api: FakeVk = {
    app,
    agent,

    async listen(port = 0, host = '127.0.0.1') {
      await app.listen({ port, host });
      const address = app.server.address();
      const actualPort = typeof address === 'object' && address !== null ? address.port : port;
      origin = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
      return `${origin}/method`;
    },

    get apiBaseUrl() {
      if (origin === null) throw new Error('fake VK: call listen() first');
      return `${origin}/method`;
    },

    async close() {
      for (const group of groups.values()) group.delivery.clear();
      waiters.clear();
      agent.destroy();
      await app.close();
    },

    createGroup(input) {
      if (groups.has(input.id)) throw new Error(`fake VK: community ${input.id} exists`);
      if (groupsByToken.has(input.token)) throw new Error('fake VK: token already used by another community');
      const group: GroupState = {
        id: input.id,
        token: input.token,
        confirmationCode: input.confirmationCode,
        secret: input.secret,
        name: input.name ?? `Community ${input.id}`,
        screenName: input.screenName ?? `club${input.id}`,
        callbackUrl: null,
        confirmed: false,
        peers: new Map(),
        messagesById: new Map(),
        nextMessageId: 1,
        permissions: new Map(),
        messageEvents: new Map(),
        delivery: newDelivery(input.id),
      };
      groups.set(group.id, group);
      groupsByToken.set(group.token, group);
      if (input.callbackUrl !== undefined) {
        // Events queue up until the endpoint is confirmed; a failed confirmation leaves them queued.
        api.setCallbackUrl(group.id, input.callbackUrl).catch(() => undefined);
      }
      return { id: group.id, name: group.name, screenName: group.screenName, callbackUrl: null, confirmed: false };
    },

    createUser(input) {
      const id = input.id ?? nextUserId++;
      const user: FakeVkUser = {
        id,
        firstName: input.firstName,
        lastName: input.lastName ?? '',
        langId: input.langId ?? 0,
        allowsMessages: input.allowsMessages ?? true,
        privacyClosed: input.privacyClosed ?? false,
        screenName: input.screenName ?? `id${id}`,
        sex: input.sex ?? 0,
      };
      users.set(id, user);
      return { ...user };
    },

    getUser(id) {
      const user = users.get(id);
      return user ? { ...user } : undefined;
    },

    async setCallbackUrl(groupId, url) {
      await confirm(getGroup(groupId), url);
      notify();
    },

    deliveryState(groupId) {
      return getGroup(groupId).delivery.state();
    },

    resumeDelivery(groupId) {
      getGroup(groupId).delivery.resume();
    },

    deliveries(groupId) {
      return groupId === undefined ? [...deliveryLog] : deliveryLog.filter((d) => d.groupId === groupId);
    },

    events(groupId) {
      return groupId === undefined ? [...eventLog] : eventLog.filter((e) => e.group_id === groupId);
    },

    doc(ref) {
      return fakeDocs.get(ref);
    },

    userFile({ type, data, title, ownerId }) {
      const id = nextUserFileId++;
      const ext = type === 'photo' ? 'jpg' : type === 'audio_message' ? 'ogg' : type === 'sticker' ? 'png' : (title?.split('.').pop() ?? 'bin');
      const mime = type === 'photo' ? 'image/jpeg' : type === 'audio_message' ? 'audio/ogg' : type === 'sticker' ? 'image/png' : 'application/octet-stream';
      userFiles.set(String(id), { data: Buffer.from(data), mime });
      const url = `${publicOrigin()}/files/${id}.${ext}`;
      const accessKey = randomBytes(8).toString('hex');
      switch (type) {
        case 'photo':
          return { type, object: { id, owner_id: ownerId, access_key: accessKey, date: Math.floor(now() / 1000), sizes: [{ type: 'x', url, width: 604, height: 453 }] } };
        case 'doc':
          return { type, object: { id, owner_id: ownerId, access_key: accessKey, title: title ?? `file.${ext}`, ext, size: data.length, type: 8, url } };
        case 'audio_message':
          return { type, object: { id, owner_id: ownerId, access_key: accessKey, duration: 1, waveform: [0], link_ogg: url, link_mp3: url.replace(/\.ogg$/, '.mp3') } };
        case 'sticker':
          return { type, object: { product_id: 1, sticker_id: id, images: [{ url, width: 128, height: 128 }] } };
      }
    },

    sendText(groupId, userId, text, extra = {}) {
      const group = getGroup(groupId);
      const user = ensureUser(userId);
      group.permissions.set(userId, true);
      const peer = peerOf(group, userId);
      const payload = extra.payload === undefined ? undefined : typeof extra.payload === 'string' ? extra.payload : JSON.stringify(extra.payload);
      // A button press hides a one_time keyboard; typing does not.
      if (payload !== undefined && peer.keyboard?.oneTime) peer.keyboard = null;
      const message = storeMessage(group, peer, {
        fromId: userId,
        out: false,
        text,
        attachments: extra.attachments ?? [],
        randomId: 0,
        payload,
        ref: extra.ref,
        refSource: extra.refSource,
      });
      emitChange('new', group, message);
      const emitted = emitEvent(group, userId, 'message_new', {
        message: rawMessage(message),
        client_info: {
          button_actions: BUTTON_ACTIONS,
          keyboard: true,
          inline_keyboard: true,
          carousel: true,
          lang_id: user.langId,
        },
      });
      return userAction(copyMessage(message), emitted);
    },

    pressCallback(groupId, userId, conversationMessageId, payload) {
      const group = getGroup(groupId);
      ensureUser(userId);
      const at = now();
      for (const [key, state] of group.messageEvents) {
        if (state.expiresAt > at) break;
        group.messageEvents.delete(key);
      }
      let object: unknown = payload;
      if (typeof payload === 'string') {
        try {
          object = JSON.parse(payload);
        } catch {
          object = payload;
        }
      }
      const eventId = randomBytes(6).toString('hex');
      group.messageEvents.set(eventId, {
        eventId,
        userId,
        peerId: userId,
        cmid: conversationMessageId,
        expiresAt: at + messageEventTtlMs,
        answered: false,
      });
      const emitted = emitEvent(group, userId, 'message_event', {
        user_id: userId,
        peer_id: userId,
        event_id: eventId,
        payload: object,
        conversation_message_id: conversationMessageId,
      });
      return userAction({ eventId }, emitted);
    },

    pressButton(groupId, userId, label, opts = {}) {
      const group = getGroup(groupId);
      const { button, message } = findButton(group, userId, label, opts.conversationMessageId);
      if (button.type === 'callback') {
        if (!message) throw new Error('fake VK: a callback button lives only in an inline keyboard');
        return api.pressCallback(groupId, userId, message.conversationMessageId, button.payload ?? '{}');
      }
      if (button.type === 'text') {
        return api.sendText(groupId, userId, label, button.payload === undefined ? {} : { payload: button.payload });
      }
      throw new Error(`fake VK: pressing a ${button.type} button sends nothing to the bot`);
    },

    allowMessages(groupId, userId, key) {
      const group = getGroup(groupId);
      ensureUser(userId);
      group.permissions.set(userId, true);
      const object: Record<string, unknown> = { user_id: userId };
      if (key !== undefined) object.key = key;
      return userAction(undefined, emitEvent(group, userId, 'message_allow', object));
    },

    denyMessages(groupId, userId) {
      const group = getGroup(groupId);
      ensureUser(userId);
      group.permissions.set(userId, false);
      return userAction(undefined, emitEvent(group, userId, 'message_deny', { user_id: userId }));
    },

    failNext(method, fault) {
      faults.push({ method, spec: fault, remaining: fault.times ?? 1 });
    },

    calls(groupId) {
      return groupId === undefined ? [...callLog] : callLog.filter((c) => c.groupId === groupId);
    },

    conversation(groupId, peerId) {
      const group = getGroup(groupId);
      const peer = group.peers.get(peerId);
      return {
        groupId,
        peerId,
        messages: peer ? peer.messages.filter((m) => !m.deleted).map(copyMessage) : [],
        keyboard: peer?.keyboard ?? null,
        eventAnswers: peer ? [...peer.eventAnswers] : [],
      };
    },

    lastBotMessage(groupId, peerId) {
      const peer = getGroup(groupId).peers.get(peerId);
      if (!peer) return undefined;
      for (let i = peer.messages.length - 1; i >= 0; i -= 1) {
        const message = peer.messages[i];
        if (message && message.out && !message.deleted) return copyMessage(message);
      }
      return undefined;
    },

    waitFor(predicate, opts = {}) {
      const timeoutMs = opts.timeoutMs ?? 5000;
      return new Promise((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const check = (): boolean => {
          let value: ReturnType<typeof predicate>;
          try {
            value = predicate();
          } catch (error) {
            finish();
            reject(error);
            return true;
          }
          if (value === undefined || value === null || value === false) return false;
          finish();
          resolve(value);
          return true;
        };
        const finish = (): void => {
          waiters.delete(check);
          if (timer) clearTimeout(timer);
        };
        if (check()) return;
        waiters.add(check);
        timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`fake VK: waitFor timed out after ${timeoutMs} ms`));
        }, timeoutMs);
      });
    },

    waitForCalls(method, count, opts = {}) {
      const key = opts.groupId === undefined ? method : `${opts.groupId}:${method}`;
      return api.waitFor(
        () =>
          (callCounts.get(key) ?? 0) >= count
            ? callLog.filter((c) => c.method === method && (opts.groupId === undefined || c.groupId === opts.groupId))
            : undefined,
        opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs },
      );
    },

    onCall(listener) {
      callListeners.add(listener);
      return () => callListeners.delete(listener);
    },

    onConversationMessage(listener) {
      changeListeners.add(listener);
      return () => changeListeners.delete(listener);
    },

    onEvent(listener) {
      eventListeners.add(listener);
      return () => eventListeners.delete(listener);
    },

    reset(opts = {}) {
      for (const group of groups.values()) {
        group.delivery.clear();
        group.peers.clear();
        group.messagesById.clear();
        group.permissions.clear();
        group.messageEvents.clear();
        group.nextMessageId = 1;
      }
      faults = [];
      callLog = [];
      eventLog = [];
      deliveryLog = [];
      callCounts = new Map();
      rateWindows.clear();
      photos.clear();
      pendingUploads.clear();
      fakeDocs.clear();
      if (opts.full) {
        groups.clear();
        groupsByToken.clear();
        users.clear();
      }
    },
  };

  return api;
}
