/** Editing one profile field by text: name, email (validated) or birthday (set once). */
import type { FlowArgs, FlowContext } from '../context.js';
import { askText, attempt, promptOptions, type BotKit, type Flow } from '../kit.js';
import { show } from '../render.js';
import { profileScreen } from '../views/profile.view.js';

export const PROFILE_FIELD_CONVERSATION = 'profile-field';

export type ProfileField = 'name' | 'email' | 'birthday';

export interface ProfileFieldArgs extends FlowArgs {
  customerId: string;
  field: ProfileField;
}

const INVALID_KEY: Record<ProfileField, string> = { name: 'profile.bad_name', email: 'profile.bad_email', birthday: 'profile.bad_birthday' };

export function createProfileFieldConversation(kit: BotKit) {
  return async function profileField(conversation: Flow, ctx: FlowContext, args: ProfileFieldArgs): Promise<void> {
    const view = kit.view(args.lang);
    const { t } = view;
    await ctx.reply(t(`profile.ask.${args.field}`), promptOptions(t));
    for (;;) {
      const answer = await askText(conversation, (other) => other.reply(t('profile.text_expected')));
      const saved = await attempt(conversation, () => {
        const profile = kit.services.profile;
        if (args.field === 'name') return profile.setName(args.customerId, answer.text);
        if (args.field === 'email') return profile.setEmail(args.customerId, answer.text);
        return profile.setBirthday(args.customerId, answer.text);
      });
      if (saved.ok) {
        await answer.ctx.reply(t('profile.saved'));
        const screen = profileScreen(view, saved.value);
        await show(answer.ctx, screen.text, screen.keyboard, { fresh: true });
        return;
      }
      if (saved.code === 'conflict') {
        await answer.ctx.reply(t('profile.birthday_set_once'));
        return;
      }
      if (saved.code !== 'invalid_input') throw new Error(`Unexpected ${saved.code} while saving ${args.field}`);
      await answer.ctx.reply(t(INVALID_KEY[args.field]), promptOptions(t));
    }
  };
}
