/** "Talk to a person": one message from the customer becomes a support request for operators. */
import type { FlowArgs, FlowContext } from '../context.js';
import { askText, attempt, promptOptions, type BotKit, type Flow } from '../kit.js';
import { show } from '../render.js';
import { mainMenuMessage } from '../views/menu.view.js';

export const SUPPORT_REQUEST_CONVERSATION = 'support-request';

export function createSupportRequestConversation(kit: BotKit) {
  return async function supportRequest(conversation: Flow, ctx: FlowContext, args: FlowArgs): Promise<void> {
    const view = kit.view(args.lang);
    const { t } = view;
    await ctx.reply(t('help.human.prompt'), promptOptions(t));
    for (;;) {
      const answer = await askText(conversation, (other) => other.reply(t('profile.text_expected')));
      const saved = await attempt(conversation, () => kit.services.support.request(args.identityId, answer.text));
      if (!saved.ok) {
        await answer.ctx.reply(t('help.human.too_long'), promptOptions(t));
        continue;
      }
      await answer.ctx.reply(t(saved.value.reused ? 'help.human.appended' : 'help.human.sent'));
      const menu = mainMenuMessage(view, answer.ctx.channel, args.customerId !== null);
      await show(answer.ctx, menu.text, menu.keyboard, { fresh: true });
      return;
    }
  };
}
