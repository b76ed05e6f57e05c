/** Finding a product by name or SKU to open its card (and add it to the wishlist). */
import type { FlowArgs, FlowContext } from '../context.js';
import { askText, attempt, promptOptions, type BotKit, type Flow } from '../kit.js';
import { show } from '../render.js';
import { searchResults } from '../views/wishlist.view.js';

export const PRODUCT_SEARCH_CONVERSATION = 'product-search';

export function createProductSearchConversation(kit: BotKit) {
  return async function productSearch(conversation: Flow, ctx: FlowContext, args: FlowArgs): Promise<void> {
    const view = kit.view(args.lang);
    const { t } = view;
    await ctx.reply(t('wishlist.search.prompt'), promptOptions(t));
    for (;;) {
      const answer = await askText(conversation, (other) => other.reply(t('profile.text_expected')));
      const found = await attempt(conversation, () => kit.services.wishlist.search(answer.text));
      if (!found.ok) {
        // The domain takes 2-100 characters; say which side was missed.
        await answer.ctx.reply(t(answer.text.trim().length < 2 ? 'wishlist.search.too_short' : 'wishlist.search.too_long'), promptOptions(t));
        continue;
      }
      const screen = searchResults(view, answer.text.trim(), found.value);
      await show(answer.ctx, screen.text, screen.keyboard, { fresh: true });
      if (found.value.length > 0) return;
    }
  };
}
