/** Profile: name, email, birthday (flows), notification toggles, language, logout. */
import { Composer, InlineKeyboard } from 'grammy';
import { FlatComposer } from '../sequence.js';
import type { BotContext } from '../context.js';
import { PROFILE_FIELD_CONVERSATION, type ProfileFieldArgs } from '../conversations/profile-field.conversation.js';
import type { BotKit } from '../kit.js';
import { profileCb } from '../keyboards/index.js';
import { languagesScreen, profileScreen } from '../views/profile.view.js';
import { flowArgs, render, requireCustomer, showMainMenu, staleButton, toast } from './helpers.js';

export function createProfileFeature(kit: BotKit): Composer<BotContext> {
  const composer = new FlatComposer<BotContext>();
  const { profile, identities } = kit.services;

  const showProfile = async (ctx: BotContext) => {
    const customerId = await requireCustomer(kit, ctx);
    if (customerId) await render(ctx, profileScreen(kit.view(ctx.lang), await profile.get(customerId)));
  };

  composer.command('profile', showProfile);

  composer.callbackQuery(profileCb.pattern, async (ctx) => {
    const a = profileCb.decode(ctx.callbackQuery.data);
    if (!a) return staleButton(ctx);
    // Language works before login too (it is remembered on the messenger account).
    if (a.action === 'languages') return render(ctx, languagesScreen(kit.view(ctx.lang), kit.translator.languages));
    if (a.action === 'language') {
      if (!kit.translator.languages.includes(a.code)) return staleButton(ctx);
      await identities.setLanguage(ctx.account.identityId, a.code);
      ctx.lang = a.code;
      ctx.t = kit.translator.t(a.code);
      await ctx.answerCallbackQuery({ text: ctx.t('profile.languages.changed') });
      return showMainMenu(kit, ctx, { refreshKeyboard: true });
    }
    const customerId = await requireCustomer(kit, ctx);
    if (!customerId) return;
    switch (a.action) {
      case 'show':
        return showProfile(ctx);
      case 'name':
      case 'email':
      case 'birthday': {
        await ctx.answerCallbackQuery();
        const args: ProfileFieldArgs = { ...flowArgs(ctx), customerId, field: a.action };
        return ctx.conversation.enter(PROFILE_FIELD_CONVERSATION, args);
      }
      case 'notify': {
        if (a.kind !== 'orders' && a.kind !== 'promos') return staleButton(ctx);
        // Promotions are the marketing consent: switching them is an answer on record.
        const updated =
          a.kind === 'promos'
            ? await profile.setMarketingConsent(customerId, a.on, ctx.channel.platform)
            : await profile.setNotificationPreference(customerId, 'orderUpdates', a.on);
        await toast(ctx, ctx.t('profile.saved'));
        return render(ctx, profileScreen(kit.view(ctx.lang), updated));
      }
      case 'consent': {
        await profile.setMarketingConsent(customerId, a.on, ctx.channel.platform);
        await ctx.answerCallbackQuery();
        // The question becomes its answer, without buttons.
        return render(ctx, { text: ctx.t(a.on ? 'auth.consent.granted' : 'auth.consent.refused'), keyboard: new InlineKeyboard() });
      }
      case 'logout':
        return render(ctx, {
          text: ctx.t('auth.logout_confirm'),
          keyboard: new InlineKeyboard().text(ctx.t('auth.logout_yes'), profileCb.encode('logoutConfirm')).row().text(ctx.t('menu.back'), profileCb.encode('show')),
        });
      case 'logoutConfirm': {
        await identities.logout(ctx.account.identityId);
        ctx.account.customerId = null;
        // Said once, in the message that brings the guest menu (a toast too would repeat it).
        await ctx.answerCallbackQuery();
        return showMainMenu(kit, ctx, { refreshKeyboard: true, before: ctx.t('auth.logged_out') });
      }
    }
  });

  return composer;
}
