/**
 * Telegram updates through the durable inbound queue (src/bot/ordering/inbound-queue.ts): the
 * chat an update belongs to, and the consumer that runs the brain on recorded updates.
 */
import type { Bot } from 'grammy';
import type { Update } from 'grammy/types';
import { tieInboundItem, type InboundConsumerOptions, type InboundQueue } from '../../bot/ordering/inbound-queue.js';

/** Updates without a chat or a sender (none that Kabinet asks for) share one queue. */
export const NO_CHAT_KEY = '_';

type Part = { chat?: { id: number }; message?: { chat?: { id: number } }; from?: { id: number }; user?: { id: number } };

/**
 * The key that orders an update: its chat, else its sender, as the brain's chat lock keys it
 * (grammY's ctx.chatId ?? ctx.from.id), so the queue and the lock agree.
 */
export function telegramChatKey(update: Update): string {
  for (const [key, value] of Object.entries(update)) {
    if (key === 'update_id' || value === null || typeof value !== 'object') continue;
    const part = value as Part;
    const id = part.chat?.id ?? part.message?.chat?.id ?? part.from?.id ?? part.user?.id;
    if (typeof id === 'number' && Number.isSafeInteger(id)) return String(id);
  }
  return NO_CHAT_KEY;
}

/**
 * Runs the brain on every recorded update, chat by chat. The bot learns who it is (getMe) on
 * the first update, so a worker starts while Telegram is unreachable; the update is retried.
 */
export function consumeTelegramUpdates(bot: Bot<any>, inbound: InboundQueue, options: InboundConsumerOptions = {}): void {
  let init: Promise<void> | undefined;
  inbound.consume(async (item) => {
    if (!bot.isInited()) {
      init ??= bot.init().catch((err: unknown) => {
        init = undefined;
        throw err;
      });
      await init;
    }
    // Tied to its item: the brain adopts the item's claim (customer-bot.ts).
    await bot.handleUpdate(tieInboundItem(JSON.parse(item.payload) as Update, item));
  }, options);
}
