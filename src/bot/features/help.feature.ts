/** Help: FAQ, delivery, payment and returns from locales, and "talk to a person". */
import { Composer, InlineKeyboard } from 'grammy';
import { FlatComposer } from '../sequence.js';
import type { BotContext } from '../context.js';
import { SUPPORT_REQUEST_CONVERSATION } from '../conversations/support-request.conversation.js';
import type { BotKit } from '../kit.js';
import { HELP_TOPICS, helpCb, menuCb, type HelpTopic } from '../keyboards/index.js';
import type { Screen, View } from '../views/view.js';
import { flowArgs, render, staleButton } from './helpers.js';

function helpScreen(view: View): Screen {
  const { t } = view;
  const keyboard = new InlineKeyboard();
  HELP_TOPICS.forEach((topic, i) => {
    keyboard.text(t(`help.buttons.${topic}`), helpCb.encode('topic', { topic }));
    if (i % 2 === 1 || i === HELP_TOPICS.length - 1) keyboard.row();
  });
  keyboard.text(t('help.buttons.human'), helpCb.encode('human')).row().text(t('menu.back'), menuCb.encode('home'));
  return { text: t('help.title'), keyboard };
}

export function createHelpFeature(kit: BotKit): Composer<BotContext> {
  const composer = new FlatComposer<BotContext>();
  composer.command('help', (ctx) => render(ctx, helpScreen(kit.view(ctx.lang))));
  composer.callbackQuery(helpCb.pattern, async (ctx) => {
    const a = helpCb.decode(ctx.callbackQuery.data);
    if (!a) return staleButton(ctx);
    const view = kit.view(ctx.lang);
    switch (a.action) {
      case 'show':
        return render(ctx, helpScreen(view));
      case 'topic':
        if (!HELP_TOPICS.includes(a.topic as HelpTopic)) return staleButton(ctx);
        return render(ctx, {
          text: view.t(`help.topics.${a.topic}`),
          keyboard: new InlineKeyboard().text(view.t('help.buttons.back'), helpCb.encode('show')).row().text(view.t('menu.back'), menuCb.encode('home')),
        });
      case 'human':
        await ctx.answerCallbackQuery();
        return ctx.conversation.enter(SUPPORT_REQUEST_CONVERSATION, flowArgs(ctx));
    }
  });
  return composer;
}
