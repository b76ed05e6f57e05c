/**
 * The context the customer bot's handlers see: grammY's, plus the channel, the person
 * (identity and, after login, customer), i18n, the session and conversations.
 */
import type { ConversationFlavor } from '@grammyjs/conversations';
import type { Context, SessionFlavor } from 'grammy';
import type { TFunction } from '../infra/i18n.js';
import type { Channel } from './channel.js';

/** What a deep link or a button asked for before the person logged in; done after login. */
export type PendingAction = { kind: 'order'; number: string } | { kind: 'wishlist_add'; productId: string };

export interface SessionData {
  pending?: PendingAction | undefined;
}

export interface Account {
  identityId: string;
  customerId: string | null;
  language: string;
}

export interface KabinetFlavor {
  channel: Channel;
  account: Account;
  lang: string;
  t: TFunction;
}

export type BotContext = ConversationFlavor<Context & SessionFlavor<SessionData> & KabinetFlavor>;

/** Inside conversations: a fresh context per update; it carries only the channel. */
export type FlowContext = Context & { channel: Channel };

/** Serializable arguments every conversation is entered with. */
export interface FlowArgs {
  identityId: string;
  customerId: string | null;
  lang: string;
}
