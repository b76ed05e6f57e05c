/**
 * The staff bot (Telegraf): operators and admins answer customers from forum topics of the
 * staff group(s). Middleware order: once per update_id → who may act (staff chats only;
 * STAFF_USER_IDS when set, else members of a staff group; STAFF_ADMIN_IDS are admins;
 * recorded as StaffMember on first action) → [error boundary: features in order, then the
 * plugged-in `features`, then unknown buttons].
 *
 * Every message the bot posts in a staff group goes through the StaffGroupPoster queue
 * (paced per group); only button answers (answerCbQuery, not counted by Telegram) are direct.
 */
import { Composer, Telegraf, type Middleware } from 'telegraf';
import type { Update, UserFromGetMe } from 'telegraf/types';
import type { Redis } from '../infra/redis.js';
import type { StaffContext, StaffFeature, StaffKit } from './context.js';
import { assignmentFeature } from './features/assignment.feature.js';
import { closingFeature } from './features/closing.feature.js';
import { topicsRelayFeature } from './features/topics-relay.feature.js';

export interface StaffBotDeps extends StaffKit {
  token: string;
  apiRoot: string;
  /** Telegram user ids allowed to act; empty = any member of a staff group. */
  userIds: readonly string[];
  adminIds: readonly string[];
  redis: Redis;
  redisKeyPrefix: string;
  botInfo?: UserFromGetMe;
  /** More features, after the built-in ones (e.g. the admins' broadcast wizard). */
  features?: StaffFeature[];
}

export interface StaffBot {
  bot: Telegraf<StaffContext>;
  /** Handles one update (the webhook route and tests call this). */
  handleUpdate(update: Update): Promise<void>;
}

/** The built-in features, in order (commands and buttons before the relay of free messages). */
export const STAFF_FEATURES: readonly StaffFeature[] = [assignmentFeature, closingFeature, topicsRelayFeature];

const UPDATE_TTL_SECONDS = 86_400;
const REFUSAL_EVERY_SECONDS = 3600;
const MEMBER_CACHE_SECONDS = 600;

export function createStaffBot(deps: StaffBotDeps): StaffBot {
  const { redis, logger, translator } = deps;
  const bot = new Telegraf<StaffContext>(deps.token, { telegram: { apiRoot: deps.apiRoot, webhookReply: false }, handlerTimeout: 60_000 });
  if (deps.botInfo) bot.botInfo = deps.botInfo;
  const prefix = `${deps.redisKeyPrefix}staffbot:`;
  const staffChats = new Set(deps.chatIds);
  const allowed = new Set([...deps.userIds, ...deps.adminIds]);
  const admins = new Set(deps.adminIds);
  const t = translator.t(deps.language);

  // A retried delivery of a handled update is dropped (marked after success only).
  bot.use(async (ctx, next) => {
    const key = `${prefix}upd:${ctx.update.update_id}`;
    if (await redis.exists(key)) return;
    await next();
    await redis.set(key, '1', 'EX', UPDATE_TTL_SECONDS);
  });

  /** A member of a staff group (for private chats; a group message proves membership itself). */
  async function isGroupMember(userId: number): Promise<boolean> {
    const key = `${prefix}member:${userId}`;
    const cached = await redis.get(key);
    if (cached !== null) return cached === '1';
    let member = false;
    for (const chatId of deps.chatIds) {
      const status = await bot.telegram.getChatMember(chatId, userId).then((m) => m.status).catch(() => 'left');
      if (!['left', 'kicked'].includes(status)) {
        member = true;
        break;
      }
    }
    await redis.set(key, member ? '1' : '0', 'EX', MEMBER_CACHE_SECONDS);
    return member;
  }

  bot.use(async (ctx, next) => {
    const from = ctx.from;
    const chat = ctx.chat ?? ctx.callbackQuery?.message?.chat;
    if (!from || from.is_bot || !chat) return;
    const inStaffGroup = staffChats.has(String(chat.id));
    // Other groups and channels: not ours, ignored.
    if (!inStaffGroup && chat.type !== 'private') return;
    ctx.t = t;
    const id = String(from.id);
    const ok = allowed.size > 0 ? allowed.has(id) : inStaffGroup || (await isGroupMember(from.id));
    if (!ok) {
      logger.info({ userId: id, chat: chat.type }, 'staff bot: refused a user outside the staff list');
      if (ctx.callbackQuery) {
        await ctx.answerCbQuery(t('staff.refused'), { show_alert: true }).catch(() => undefined);
        return;
      }
      // Said once an hour per person, so a stranger cannot make the bot spend the group's budget.
      const said = await redis.set(`${prefix}refused:${id}`, '1', 'EX', REFUSAL_EVERY_SECONDS, 'NX');
      if (said !== 'OK') return;
      if (chat.type === 'private') await ctx.reply(t('staff.refused')).catch(() => undefined);
      else {
        const thread = ctx.message && 'message_thread_id' in ctx.message ? ctx.message.message_thread_id : undefined;
        await deps.services.poster.post({ chatId: String(chat.id), ...(thread ? { threadId: thread } : {}), text: t('staff.refused') });
      }
      return;
    }
    const name = [from.first_name, from.last_name].filter(Boolean).join(' ') || (from.username ? `@${from.username}` : `id${id}`);
    const member = await deps.services.staff.ensure({ telegramUserId: id, name, admin: admins.has(id) });
    ctx.staff = { ...member, telegramUserId: id };
    return next();
  });

  const features = new Composer<StaffContext>();
  for (const feature of [...STAFF_FEATURES, ...(deps.features ?? [])]) features.use(feature(deps) as Middleware<StaffContext>);
  // Last: buttons nobody knows (old cards, forged data) get a polite answer.
  features.on('callback_query', (ctx) => ctx.answerCbQuery(t('staff.unknown_button')).then(() => undefined, () => undefined));
  features.command('start', async (ctx) => {
    if (ctx.chat.type === 'private') await ctx.reply(t('staff.private_hello'));
  });
  bot.use(features);

  bot.catch(async (err, ctx) => {
    logger.error({ err, updateId: ctx.update.update_id }, 'staff bot handler failed');
    if (ctx.callbackQuery) await ctx.answerCbQuery(t('staff.errors.generic'), { show_alert: true }).catch(() => undefined);
    // Rethrown: the webhook answers 500 and Telegram delivers the update again.
    throw err;
  });

  return {
    bot,
    async handleUpdate(update) {
      await bot.handleUpdate(update);
    },
  };
}
