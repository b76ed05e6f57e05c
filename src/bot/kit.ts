/** What features and conversations share: services, i18n, settings, and the login entry. */
import type { Conversation } from '@grammyjs/conversations';
import { InlineKeyboard } from 'grammy';
import type { Config } from '../config/index.js';
import { isDomainError, type DomainErrorCode } from '../errors.js';
import type { TFunction, Translator } from '../infra/i18n.js';
import type { Logger } from '../infra/logger.js';
import type { BotContext, FlowContext, PendingAction } from './context.js';
import { menuCb } from './keyboards/index.js';
import type { CustomerBotServices } from './services.js';
import type { View } from './views/view.js';

export interface BotKit {
  services: CustomerBotServices;
  translator: Translator;
  config: Config;
  logger: Logger;
  timeZone: string;
  view(lang: string): View;
  /**
   * Starts whichever login the channel supports (see createCustomerBot's phoneLogin).
   * `phone`: one the person already typed, for logins that start from a typed phone.
   */
  startLogin(ctx: BotContext, pending?: PendingAction, phone?: string): Promise<void>;
}

export type Flow = Conversation<BotContext, FlowContext>;

export type Attempt<T> = { ok: true; value: T } | { ok: false; code: DomainErrorCode; details: Record<string, unknown> };

/** Runs a domain call, turning a DomainError into a serializable value the caller can branch on. */
export type Run = <T>(task: () => Promise<T>) => Promise<Attempt<T>>;

/** `Run` outside conversations: the call runs right away. */
export const runNow: Run = async (task) => {
  try {
    return { ok: true, value: await task() };
  } catch (err) {
    if (isDomainError(err)) return { ok: false, code: err.code, details: (err.details ?? {}) as Record<string, unknown> };
    throw err;
  }
};

/** `Run` inside a conversation: outside the replay (once, its result logged). */
export const runIn = (conversation: Flow): Run => (task) => conversation.external(() => runNow(task));

export function attempt<T>(conversation: Flow, task: () => Promise<T>): Promise<Attempt<T>> {
  return runIn(conversation)(task);
}

/**
 * Waits for a text answer. A button press or a command means the person went elsewhere:
 * the flow ends and the update is handled as if no flow was running.
 */
export async function askText(conversation: Flow, onOther: (ctx: FlowContext) => Promise<unknown>): Promise<{ ctx: FlowContext; text: string }> {
  for (;;) {
    const next = await conversation.wait();
    const text = next.message?.text;
    if (next.callbackQuery || text?.startsWith('/')) return conversation.halt({ next: true });
    if (text !== undefined) return { ctx: next, text };
    await onOther(next);
  }
}

/**
 * Options for a message that asks for typed text (a name, an address line, a question for
 * the shop): a cancel button under it. Pressing it leaves the flow (any button does, see
 * askText) and the menu feature answers with the menu. Every text prompt carries it.
 */
export function promptOptions(t: TFunction, extra: { parse_mode?: 'HTML' } = {}): { reply_markup: InlineKeyboard; parse_mode?: 'HTML' } {
  return { ...extra, reply_markup: new InlineKeyboard().text(t('menu.cancel'), menuCb.encode('cancel')) };
}
