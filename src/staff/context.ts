/**
 * The staff bot's context and the kit its features share. Features are Telegraf middleware
 * factories (`StaffFeature`), so others can plug their own into `createStaffBot({ features })`.
 */
import type { Context, Middleware } from 'telegraf';
import type { CardQueries } from '../domain/support/card.js';
import type { StaffRef, SupportService } from '../domain/support/support.service.js';
import type { StaffService } from '../domain/support/staff.service.js';
import type { TFunction, Translator } from '../infra/i18n.js';
import type { Logger } from '../infra/logger.js';
import type { OperatorReplies } from './operator-replies.js';
import type { OperatorReplyQueue } from './operator-reply.queue.js';
import type { StaffGroupPoster } from './staff-posts.js';

export interface StaffMemberRef extends StaffRef {
  telegramUserId: string;
}

/** What every staff handler sees: Telegraf's context, the acting staff member, and texts. */
export interface StaffContext extends Context {
  staff: StaffMemberRef;
  /** Staff-facing texts (locales/<staff language>/staff.json). */
  t: TFunction;
}

/** Admins broadcast and reassign others' conversations (STAFF_ADMIN_IDS). */
export function isAdmin(ctx: Pick<StaffContext, 'staff'>): boolean {
  return ctx.staff?.role === 'admin';
}

export interface StaffServices {
  support: SupportService;
  staff: StaffService;
  cards: CardQueries;
  poster: StaffGroupPoster;
  replies: OperatorReplies;
  /** Where the staff bot hands operators' answers (and the close line) for delivery. */
  replyQueue: OperatorReplyQueue;
}

export interface StaffKit {
  services: StaffServices;
  translator: Translator;
  logger: Logger;
  /** Language of the staff group's texts. */
  language: string;
  timeZone: string;
  chatIds: readonly string[];
}

/** A feature of the staff bot: a Telegraf middleware (a Composer) built from the kit. */
export type StaffFeature = (kit: StaffKit) => Middleware<StaffContext>;
