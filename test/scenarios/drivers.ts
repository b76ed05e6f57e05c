/**
 * A person chatting with the shop's bot, written once for both platforms. Scenarios speak
 * only this interface: say, press a button by its label, read the bot's last message and
 * buttons, log in. The Telegram driver works the fake Telegram Bot API, the VK driver the
 * fake VK API (callback buttons, the persistent keyboard, page turns of long keyboards).
 */
import { expect } from 'vitest';
import type { Platform } from '../../src/channels/outbound.js';
import { normalizePhone } from '../../src/domain/customers/phone.js';
import type { FakeVkButton, FakeVkMessage } from '../../src/fakes/vk/index.js';
import { TG_TOKEN, VK_GROUP, type World } from './world.js';

export interface Driver {
  readonly platform: Platform;
  /** The messenger user id (ChannelIdentity.externalId). */
  readonly externalId: string;
  say(text: string): Promise<void>;
  /**
   * First contact the platform's way, optionally through a deep link: Telegram's "Start"
   * (/start <ref>), VK's "Начать" button (payload {"command":"start"}, the link's `ref` on the message).
   */
  start(ref?: string): Promise<void>;
  /** Presses the button whose label is `label` or starts with it, on the newest message that shows one. */
  press(label: string): Promise<void>;
  /** The current text of the bot's newest message. */
  lastText(): string;
  /** Every bot message's current text, oldest first. */
  texts(): string[];
  /** Labels of the buttons under the bot's newest message (on VK: every page). */
  buttons(): string[];
  /** Labels of the keyboard under the input field (Telegram: the newest reply keyboard; VK: the persistent one). */
  replyButtons(): string[];
  /** Logs in with this phone the way the platform allows (own contact / phone + code). */
  login(phone: string): Promise<void>;
}

export interface PersonInput {
  firstName: string;
  languageCode?: string;
}

export type DriverFactory = (world: World, input: PersonInput) => Driver;

const labelMatches = (label: string | undefined, wanted: string) =>
  !!label && (label === wanted || label.startsWith(wanted) || (label.endsWith('…') && wanted.startsWith(label.slice(0, -1))));

let nextTelegramId = 610_000;
let nextVkId = 710_000;

export const telegramDriver: DriverFactory = (world, input) => {
  const { tg, ctx } = world;
  const user = tg.createUser({ id: ++nextTelegramId, firstName: input.firstName, languageCode: input.languageCode ?? 'ru' });
  const settle = () => tg.waitForDelivery(TG_TOKEN, { timeoutMs: 15_000 });
  const out = () => tg.chat(TG_TOKEN, user.id).filter((m) => m.direction === 'out');
  const inline = (m: { replyMarkup?: unknown }) =>
    ((m.replyMarkup as { inline_keyboard?: Array<Array<{ text: string; callback_data?: string; url?: string }>> } | undefined)?.inline_keyboard ?? []).flat();
  const reply = (m: { replyMarkup?: unknown }) =>
    ((m.replyMarkup as { keyboard?: Array<Array<{ text: string }>> } | undefined)?.keyboard ?? []).flat();
  const driver: Driver = {
    platform: 'telegram',
    externalId: String(user.id),
    async say(text) {
      tg.sendText(TG_TOKEN, user.id, text);
      await settle();
    },
    async start(ref) {
      if (ref === undefined) tg.sendText(TG_TOKEN, user.id, '/start');
      else tg.startWithPayload(TG_TOKEN, user.id, ref);
      await settle();
    },
    async press(label) {
      for (const m of [...out()].reverse()) {
        const button = inline(m).find((b) => labelMatches(b.text, label) && b.callback_data);
        if (button) {
          tg.pressButton(TG_TOKEN, user.id, m.messageId, button.callback_data!);
          return settle();
        }
        if (reply(m).some((b) => b.text === label)) return driver.say(label);
      }
      expect.fail(`telegram: no button "${label}"; last message: ${driver.lastText()}`);
    },
    lastText: () => { const m = out().at(-1); return m?.text ?? m?.caption ?? ''; },
    texts: () => out().map((m) => m.text ?? m.caption ?? ''),
    buttons: () => { const m = out().at(-1); return m ? inline(m).map((b) => b.text) : []; },
    replyButtons: () => { const m = [...out()].reverse().find((x) => reply(x).length > 0); return m ? reply(m).map((b) => b.text) : []; },
    async login(phone) {
      // A guest's greeting already carries the share-number button; elsewhere "Log in" brings it.
      const share = ctx.translator.t(input.languageCode ?? 'ru')('auth.share');
      const last = out().at(-1);
      if (!last || !reply(last).some((b) => b.text === share)) await driver.press(ctx.translator.t(input.languageCode ?? 'ru')('menu.login'));
      tg.sendContact(TG_TOKEN, user.id, { phone, firstName: input.firstName });
      await settle();
    },
  };
  return driver;
};

export const vkDriver: DriverFactory = (world, input) => {
  const { vk, ctx, sms } = world;
  const user = vk.createUser({ id: ++nextVkId, firstName: input.firstName, langId: input.languageCode === 'en' ? 3 : 0 });
  const messages = () => vk.conversation(VK_GROUP, user.id).messages.filter((m) => m.out);
  const flat = (m: FakeVkMessage) => m.keyboard?.buttons.flat() ?? [];
  const isNav = (b: FakeVkButton) => !!b.payload && b.payload.includes('"vkp"');

  async function tap(button: FakeVkButton, message?: FakeVkMessage): Promise<void> {
    const action = vk.pressButton(VK_GROUP, user.id, button.label!, message ? { conversationMessageId: message.conversationMessageId } : {});
    await action.delivered;
  }

  const driver: Driver = {
    platform: 'vk',
    externalId: String(user.id),
    async say(text) {
      await vk.sendText(VK_GROUP, user.id, text).delivered;
    },
    async start(ref) {
      const label = input.languageCode === 'en' ? 'Start' : 'Начать';
      await vk.sendText(VK_GROUP, user.id, label, { payload: { command: 'start' }, ...(ref === undefined ? {} : { ref, refSource: 'site' }) }).delivered;
    },
    async press(label) {
      // Page turns are part of finding a button: a long keyboard is split, never cut.
      for (let turn = 0; turn < 8; turn++) {
        const persistent = vk.conversation(VK_GROUP, user.id).keyboard;
        for (const m of [...messages()].reverse()) {
          const button = flat(m).find((b) => labelMatches(b.label, label) && (b.type === 'callback' || b.type === 'text'));
          if (button) return tap(button, m);
        }
        const fromPersistent = persistent?.buttons.flat().find((b) => labelMatches(b.label, label));
        if (fromPersistent) return tap(fromPersistent);
        const withPages = [...messages()].reverse().find((m) => flat(m).some((b) => isNav(b) && b.label!.startsWith('▶')));
        if (!withPages) break;
        await tap(flat(withPages).find((b) => isNav(b) && b.label!.startsWith('▶'))!, withPages);
      }
      expect.fail(`vk: no button "${label}"; last message: ${driver.lastText()}`);
    },
    lastText: () => messages().at(-1)?.text ?? '',
    texts: () => messages().map((m) => m.text),
    buttons: () => { const m = messages().at(-1); return m ? flat(m).filter((b) => !isNav(b)).map((b) => b.label ?? '') : []; },
    replyButtons: () => vk.conversation(VK_GROUP, user.id).keyboard?.buttons.flat().map((b) => b.label ?? '') ?? [],
    async login(phone) {
      const t = ctx.translator.t(input.languageCode ?? 'ru');
      await driver.press(t('menu.login'));
      await driver.say(phone);
      const code = sms.lastCodeFor(normalizePhone(phone)) ?? codeFromTelegram(world, phone);
      expect(code, `a login code was sent; bot said: ${driver.texts().slice(-3).join(' / ')} ${JSON.stringify(vk.conversation(VK_GROUP, user.id).eventAnswers)}`).toBeDefined();
      await driver.say(code!);
    },
  };
  return driver;
};

/** A code that went to the customer's Telegram chat instead of SMS. */
export function codeFromTelegram(world: World, phone: string): string | undefined {
  void phone;
  const sends = world.tg.calls(TG_TOKEN).filter((c) => c.method === 'sendMessage' && /\b\d{6}\b/.test(String(c.params.text ?? '')));
  return /\b(\d{6})\b/.exec(String(sends.at(-1)?.params.text ?? ''))?.[1];
}

export const DRIVERS: Array<[Platform, DriverFactory]> = [
  ['telegram', telegramDriver],
  ['vk', vkDriver],
];
