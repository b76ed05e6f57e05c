/**
 * The admins' broadcast wizard in the staff bot: `/broadcast` in a private chat with the bot
 * runs the state machine of src/domain/broadcasts/wizard.ts. Its state lives in Redis, keyed
 * by the admin's Telegram id with a TTL (any web instance can take the next step; an
 * abandoned wizard expires). Choices are inline buttons tied to this run of the wizard;
 * `/cancel` or the Cancel button stops it at any step. The preview is sent to the admin
 * exactly as customers get it on Telegram; on confirm the broadcast is created and started
 * (or scheduled) through the broadcasts service, like the admin API does.
 *
 * In a staff group `/broadcast` only points to the private chat (a wizard there would spend
 * the group's message budget and show drafts to every operator).
 */
import { randomBytes } from 'node:crypto';
import { Composer } from 'telegraf';
import type { InlineKeyboardButton } from 'telegraf/types';
import { renderMessage, telegramCall, type PlaceholderValues } from '../domain/broadcasts/content.js';
import type { BroadcastsService } from '../domain/broadcasts/broadcasts.service.js';
import { advance, promptFor, startWizard, type WizardEffect, type WizardEvent, type WizardPrompt, type WizardSettings, type WizardState } from '../domain/broadcasts/wizard.js';
import { isDomainError } from '../errors.js';
import type { Clock } from '../infra/clock.js';
import type { Redis } from '../infra/redis.js';
import { isAdmin, type StaffContext, type StaffFeature } from './context.js';

/** Button data prefix: `bcw:<run>:<value>`. */
export const WIZARD_CB = 'bcw';
/** An untouched wizard is forgotten after this. */
export const WIZARD_TTL_SECONDS = 6 * 3600;
const LOCK_SECONDS = 60;

export interface BroadcastWizardDeps {
  broadcasts: Pick<BroadcastsService, 'count' | 'create' | 'start'>;
  redis: Redis;
  redisKeyPrefix: string;
  clock: Clock;
  /** The shop's languages and the default one (the texts asked for). */
  languages: readonly string[];
  defaultLanguage: string;
  /** Placeholder values for the preview, in the given language. */
  placeholders(subject: { language: string; firstName: string | null; points: number; tierCode: string | null }): Promise<PlaceholderValues> | PlaceholderValues;
  ttlSeconds?: number;
}

/** What Redis holds per admin: the wizard's state and the id of this run (old buttons do nothing). */
interface Stored {
  run: string;
  state: WizardState;
}

const W = 'broadcasts.wizard';

export function createBroadcastWizardFeature(deps: BroadcastWizardDeps): StaffFeature {
  const { redis } = deps;
  const ttl = deps.ttlSeconds ?? WIZARD_TTL_SECONDS;
  const keyOf = (userId: string) => `${deps.redisKeyPrefix}staffbot:bcwizard:${userId}`;
  const lockOf = (userId: string) => `${deps.redisKeyPrefix}staffbot:bcwizard-lock:${userId}`;

  return (kit) => {
    const settings = (): WizardSettings => ({ languages: deps.languages, defaultLanguage: deps.defaultLanguage, timeZone: kit.timeZone, now: deps.clock.now() });

    async function load(userId: string): Promise<Stored | undefined> {
      const raw = await redis.get(keyOf(userId));
      if (!raw) return undefined;
      try {
        const parsed = JSON.parse(raw) as Stored;
        if (typeof parsed?.run === 'string' && parsed.state && typeof parsed.state === 'object') return parsed;
      } catch {
        // A damaged entry is dropped below.
      }
      await redis.del(keyOf(userId));
      return undefined;
    }

    async function save(userId: string, stored: Stored): Promise<void> {
      if (stored.state.step === 'done' || stored.state.step === 'cancelled') await redis.del(keyOf(userId));
      else await redis.set(keyOf(userId), JSON.stringify(stored), 'EX', ttl);
    }

    /** One step at a time per admin (a double press or two instances never run one step twice). */
    async function locked<T>(userId: string, fn: () => Promise<T>): Promise<T | undefined> {
      const token = randomBytes(8).toString('hex');
      const ok = await redis.set(lockOf(userId), token, 'EX', LOCK_SECONDS, 'NX');
      if (ok !== 'OK') return undefined;
      try {
        return await fn();
      } finally {
        // Released only if still ours.
        await redis.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end", 1, lockOf(userId), token);
      }
    }

    function render(ctx: StaffContext, run: string, prompt: WizardPrompt): { text: string; keyboard: InlineKeyboardButton[][] } {
      const lines = [...(prompt.error ? [ctx.t(prompt.error, prompt.errorValues ?? {})] : []), ctx.t(prompt.key, prompt.values ?? {})];
      const keyboard = (prompt.choices ?? []).map((c) => [{ text: ctx.t(c.label, c.values ?? {}), callback_data: `${WIZARD_CB}:${run}:${c.value}` }]);
      return { text: lines.join('\n\n'), keyboard };
    }

    async function say(ctx: StaffContext, run: string, prompt: WizardPrompt): Promise<void> {
      const { text, keyboard } = render(ctx, run, prompt);
      await ctx.reply(text, keyboard.length ? { reply_markup: { inline_keyboard: keyboard } } : {});
    }

    /** Sends the broadcast as a customer in each language gets it on Telegram, to the admin. */
    async function preview(ctx: StaffContext, effect: Extract<WizardEffect, { type: 'preview' }>): Promise<void> {
      const languages = [deps.defaultLanguage, ...deps.languages.filter((l) => l !== deps.defaultLanguage && effect.content.text[l] !== undefined)];
      for (const language of languages) {
        const values = await deps.placeholders({ language, firstName: ctx.from?.first_name ?? null, points: 0, tierCode: null });
        const call = telegramCall(renderMessage(effect.content, language, deps.defaultLanguage, values), String(ctx.chat!.id));
        await ctx.telegram.callApi(call.method as 'sendMessage', call.payload as never);
      }
    }

    /** Feeds an event, runs the effects (their results fed back), saves, and answers. */
    async function step(ctx: StaffContext, stored: Stored, event: WizardEvent): Promise<void> {
      const userId = String(ctx.from!.id);
      let result = advance(stored.state, event, settings());
      let prompt = result.prompt;
      for (let guard = 0; result.effects.length > 0 && guard < 5; guard++) {
        const before = stored.state;
        // Saved before the effect runs: a second confirm sees "creating" and waits.
        stored = { ...stored, state: result.state };
        await save(userId, stored);
        const effect = result.effects[0]!;
        if (effect.type === 'count') {
          let count;
          try {
            count = await deps.broadcasts.count(effect.segment);
          } catch (err) {
            // Back a step, so the retried update (or the admin) can pick the segment again.
            await save(userId, { ...stored, state: before });
            throw err;
          }
          result = advance(result.state, { type: 'counted', count }, settings());
        } else if (effect.type === 'preview') {
          try {
            await preview(ctx, effect);
          } catch (err) {
            kit.logger.warn({ err, adminId: userId }, 'broadcast wizard: the preview could not be sent');
            // Back to the audience step: a picture Telegram cannot fetch would fail for everyone.
            stored = { ...stored, state: before };
            await save(userId, stored);
            await say(ctx, stored.run, { ...promptFor(before, settings()), error: `${W}.error.preview`, errorValues: { problem: errorText(err) } });
            return;
          }
          break;
        } else {
          let created: { id: string; status: string };
          let draftId: string | undefined;
          try {
            draftId = (await deps.broadcasts.create({ ...effect.input, createdById: ctx.staff.id })).id;
            const started = await deps.broadcasts.start(draftId);
            created = { id: draftId, status: started.status };
          } catch (err) {
            if (draftId) {
              // It exists as a draft and did not start: never create it a second time.
              kit.logger.error({ err, adminId: userId, broadcastId: draftId }, 'broadcast wizard: created but not started');
              await save(userId, { ...stored, state: { ...result.state, step: 'done', broadcastId: draftId } });
              await ctx.reply(ctx.t(`${W}.error.notStarted`, { id: draftId }));
              return;
            }
            stored = { ...stored, state: before };
            await save(userId, stored);
            if (!isDomainError(err)) throw err;
            await say(ctx, stored.run, { ...promptFor(stored.state, settings()), error: `${W}.error.create`, errorValues: { problem: err.message } });
            return;
          }
          kit.logger.info({ adminId: userId, broadcastId: created.id, status: created.status }, 'broadcast created from the staff bot');
          result = advance(result.state, { type: 'created', ...created }, settings());
        }
        prompt = result.prompt;
      }
      stored = { ...stored, state: result.state };
      await save(userId, stored);
      await say(ctx, stored.run, prompt);
    }

    const c = new Composer<StaffContext>();

    c.command('broadcast', async (ctx) => {
      if (ctx.chat.type !== 'private') {
        const text = isAdmin(ctx) ? ctx.t(`${W}.privateOnly`, { bot: ctx.botInfo?.username ?? '' }) : ctx.t(`${W}.notAdmin`);
        await kit.services.poster.post({ chatId: String(ctx.chat.id), ...threadOf(ctx), text });
        return;
      }
      const userId = String(ctx.from.id);
      const started = startWizard({ isAdmin: isAdmin(ctx) }, settings());
      if ('refused' in started) {
        await ctx.reply(ctx.t(started.prompt.key));
        return;
      }
      const done = await locked(userId, async () => {
        const stored: Stored = { run: randomBytes(4).toString('hex'), state: started.state };
        await save(userId, stored);
        await say(ctx, stored.run, started.prompt);
        return true;
      });
      if (!done) await ctx.reply(ctx.t(`${W}.error.wait`));
    });

    c.command('cancel', async (ctx, next) => {
      if (ctx.chat.type !== 'private') return next();
      const userId = String(ctx.from.id);
      const handled = await locked(userId, async () => {
        const stored = await load(userId);
        if (!stored) return false;
        await step(ctx, stored, { type: 'cancel' });
        return true;
      });
      if (handled === undefined) await ctx.reply(ctx.t(`${W}.error.wait`));
      else if (!handled) return next();
    });

    c.action(new RegExp(`^${WIZARD_CB}:([0-9a-f]{8}):(.{1,50})$`), async (ctx) => {
      const [, run, value] = ctx.match;
      const userId = String(ctx.from.id);
      if (!isAdmin(ctx)) {
        await ctx.answerCbQuery(ctx.t(`${W}.notAdmin`), { show_alert: true }).catch(() => undefined);
        return;
      }
      const outcome = await locked(userId, async () => {
        const stored = await load(userId);
        if (!stored || stored.run !== run) return 'expired' as const;
        await ctx.answerCbQuery().catch(() => undefined);
        // The pressed message keeps its text but loses its buttons: the next step is below.
        await ctx.editMessageReplyMarkup(undefined).catch(() => undefined);
        await step(ctx, stored, value === 'cancel' ? { type: 'cancel' } : { type: 'choice', value: value! });
        return 'ok' as const;
      });
      if (outcome === undefined) await ctx.answerCbQuery(ctx.t(`${W}.error.wait`)).catch(() => undefined);
      else if (outcome === 'expired') {
        await ctx.answerCbQuery(ctx.t(`${W}.expired`), { show_alert: true }).catch(() => undefined);
        await ctx.editMessageReplyMarkup(undefined).catch(() => undefined);
      }
    });

    // Texts and pictures in the admin's private chat while a wizard runs.
    c.on('message', async (ctx, next) => {
      if (ctx.chat.type !== 'private') return next();
      const message = ctx.message;
      const text = 'text' in message ? message.text : undefined;
      if (text?.startsWith('/')) return next();
      const userId = String(ctx.from.id);
      const stored = await load(userId);
      if (!stored) return next();
      if (!isAdmin(ctx)) {
        await redis.del(keyOf(userId));
        return next();
      }
      const ran = await locked(userId, async () => {
        const current = await load(userId);
        if (!current) return true;
        if (text !== undefined) {
          // At the picture step a link is the picture; a pasted https link is taken as is.
          const url = text.trim();
          if ((current.state.step === 'photo' || current.state.step === 'kind') && /^https:\/\/\S+$/i.test(url)) await step(ctx, current, { type: 'photo', url });
          else await step(ctx, current, { type: 'text', text });
          return true;
        }
        if ('photo' in message || 'document' in message) {
          // A file sent to the bot has no address Telegram and VK customers could both fetch
          // (its download link holds the bot's token): the picture is given as a link.
          await say(ctx, current.run, { ...promptFor(current.state, settings()), error: `${W}.error.photoLink` });
          return true;
        }
        await say(ctx, current.run, { ...promptFor(current.state, settings()), error: `${W}.error.expectedText` });
        return true;
      });
      if (ran === undefined) await ctx.reply(ctx.t(`${W}.error.wait`));
    });

    return c;
  };
}

function threadOf(ctx: StaffContext): { threadId?: number } {
  const m = ctx.message;
  return m && 'message_thread_id' in m && m.message_thread_id ? { threadId: m.message_thread_id } : {};
}

function errorText(err: unknown): string {
  const e = err as { response?: { description?: string }; message?: string };
  return e?.response?.description ?? e?.message ?? 'error';
}
