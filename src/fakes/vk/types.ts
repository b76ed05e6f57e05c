import type { FakeVkKeyboard } from './keyboard.js';

export interface FakeVkOptions {
  /** Fastify logger; off by default (benchmarks). */
  logger?: boolean;
  /** Requests per second per token before error 6; `false` switches the check off. Default 20. */
  rateLimit?: { perSecond: number } | false;
  /**
   * Our flood-control rule (VK does not publish one): more than `sameTextLimit` identical
   * texts to the same peer within `windowMs` → error 9. Default 5 per 10 s; `false` = off.
   */
  floodControl?: { sameTextLimit: number; windowMs: number } | false;
  /** How long a random_id deduplicates resends, per peer. Default one hour. */
  randomIdTtlMs?: number;
  /** How long a message_event can be answered. Default 60 s. */
  messageEventTtlMs?: number;
  /** How long a message can be edited or deleted for everyone. Default 24 h. */
  editWindowMs?: number;
  callback?: {
    /** Delays before retry 1, 2, ...; when they run out, delivery for the group pauses. */
    retryDelaysMs?: number[];
    /** Per-request timeout for the bot's endpoint. Default 5 s. */
    timeoutMs?: number;
  };
  /** Clock in ms; inject to test expiries without sleeping. */
  now?: () => number;
  /** Keep every API call for `calls()`. Default true; benchmarks may switch it off. */
  recordCalls?: boolean;
  /** API version written into callback events. Default "5.199". */
  apiVersion?: string;
}

export interface CreateGroupInput {
  id: number;
  token: string;
  confirmationCode: string;
  secret?: string;
  callbackUrl?: string;
  name?: string;
  screenName?: string;
}

export interface CreateUserInput {
  id?: number;
  firstName: string;
  lastName?: string;
  /** client_info.lang_id: 0 ru, 1 uk, 3 en … Default 0. */
  langId?: number;
  /** Whether communities may write to the user before they write first. Default true. */
  allowsMessages?: boolean;
  /** Privacy settings forbid community messages → error 902 on send. */
  privacyClosed?: boolean;
  screenName?: string;
  sex?: 0 | 1 | 2;
}

export interface FakeVkUser {
  id: number;
  firstName: string;
  lastName: string;
  langId: number;
  allowsMessages: boolean;
  privacyClosed: boolean;
  screenName: string;
  sex: 0 | 1 | 2;
}

export interface FakeVkGroupInfo {
  id: number;
  name: string;
  screenName: string;
  callbackUrl: string | null;
  confirmed: boolean;
}

export interface FakeVkPhotoSize {
  type: string;
  url: string;
  width: number;
  height: number;
}

export interface FakeVkPhoto {
  album_id: number;
  date: number;
  id: number;
  owner_id: number;
  access_key: string;
  sizes: FakeVkPhotoSize[];
  text: string;
  has_tags: boolean;
  orig_photo: FakeVkPhotoSize;
}

export type FakeVkAttachment =
  | { type: 'photo'; photo: FakeVkPhoto }
  /** A file a user sent (doc, audio_message, sticker, photo), with the object VK puts in message_new. */
  | { type: string; object: Record<string, unknown> }
  /** An attachment string the fake does not know (kept as sent). */
  | { type: string; raw: string };

/** A message in a dialog, as stored by the fake (both directions). */
export interface FakeVkMessage {
  id: number;
  conversationMessageId: number;
  peerId: number;
  fromId: number;
  /** true for community → user. */
  out: boolean;
  text: string;
  /** Unix seconds. */
  date: number;
  /** ms timestamp from the fake's clock. */
  createdAt: number;
  randomId: number;
  payload?: string;
  /** A vk.me / community link's `ref` (and `ref_source`) the user came with. */
  ref?: string;
  refSource?: string;
  keyboard?: FakeVkKeyboard;
  attachments: FakeVkAttachment[];
  edited: boolean;
  /** Previous texts, oldest first. */
  editHistory: string[];
  deleted: boolean;
}

export interface FakeVkSnackbar {
  eventId: string;
  userId: number;
  peerId: number;
  conversationMessageId: number;
  eventData: Record<string, unknown> | null;
  at: number;
}

/** The dialog as the user sees it. */
export interface FakeVkConversation {
  groupId: number;
  peerId: number;
  /** Not deleted, oldest first, current text and keyboard. */
  messages: FakeVkMessage[];
  /** The last persistent (non-inline) keyboard still shown, or null. */
  keyboard: FakeVkKeyboard | null;
  /** Answers to callback buttons (sendMessageEventAnswer). */
  eventAnswers: FakeVkSnackbar[];
}

export interface FakeVkCallRecord {
  /** Community whose token was used; null when authorization failed. */
  groupId: number | null;
  method: string;
  params: Record<string, string>;
  response?: unknown;
  error?: { error_code: number; error_msg: string };
  /** ms, fake's clock. */
  at: number;
  /** Set for calls made inside an execute. */
  viaExecute: boolean;
}

export interface FakeVkCallbackEvent {
  type: string;
  object: Record<string, unknown>;
  group_id: number;
  event_id: string;
  v: string;
  secret?: string;
}

export interface FakeVkDeliveryAttempt {
  groupId: number;
  eventId: string;
  type: string;
  retry: number;
  status: number | null;
  body: string | null;
  ok: boolean;
  error?: string;
  at: number;
}

export interface FakeVkDeliveryState {
  callbackUrl: string | null;
  confirmed: boolean;
  paused: boolean;
  pending: number;
  delivered: number;
}

export interface FakeVkConversationChange {
  kind: 'new' | 'edit' | 'delete';
  groupId: number;
  peerId: number;
  message: FakeVkMessage;
}

export interface FaultSpec {
  code: number;
  message?: string;
  /** How many matching calls fail. Default 1. */
  times?: number;
  /** Only calls addressed to this peer (peer_id, user_id or peer_ids). */
  peerId?: number;
  groupId?: number;
}

/** What a simulated user action returns. */
export interface UserAction<T> {
  result: T;
  event: FakeVkCallbackEvent;
  /** Resolves when the bot's endpoint answered "ok" (never rejects). */
  delivered: Promise<void>;
}
