/**
 * A chat as the page draws it, read from the fake messenger's own record of the dialog: the
 * messages both ways with their inline buttons, and the reply keyboard the person sees now.
 * Telegram and VK differ in markup; the page sees one shape.
 */
import type { Sandbox, SandboxPerson } from './sandbox.js';

export interface ViewButton { label: string; kind: 'callback' | 'url' | 'text' | 'contact'; data?: string; url?: string }
export interface ViewMessage { id: number; from: 'user' | 'bot'; text: string; at: string; inline: ViewButton[][] }
export interface ChatView { messages: ViewMessage[]; keyboard: ViewButton[][] }

/** The newest messages only: a long demo must not make every refresh heavier. */
const MAX_MESSAGES = 200;

export function telegramChat(sandbox: Sandbox, person: SandboxPerson): ChatView {
  const entries = sandbox.telegram.chat(sandbox.telegramToken, person.userId);
  let keyboard: ViewButton[][] = [];
  const messages = entries.map((e): ViewMessage => {
    const markup = e.replyMarkup as Record<string, unknown> | undefined;
    const inline = ((markup?.inline_keyboard as Array<Array<Record<string, string>>> | undefined) ?? []).map((row) =>
      row.map((b): ViewButton => (b.url ? { label: b.text!, kind: 'url', url: b.url } : { label: b.text!, kind: 'callback', data: b.callback_data! })),
    );
    if (e.direction === 'out' && markup?.keyboard) {
      keyboard = (markup.keyboard as Array<Array<Record<string, unknown> | string>>).map((row) =>
        row.map((b): ViewButton => {
          const text = typeof b === 'string' ? b : String(b.text);
          return typeof b !== 'string' && b.request_contact ? { label: text, kind: 'contact' } : { label: text, kind: 'text' };
        }),
      );
    }
    if (e.direction === 'out' && markup?.remove_keyboard) keyboard = [];
    const text = e.text ?? e.caption ?? (e.message.contact ? `📱 ${e.message.contact.phone_number}` : '');
    return { id: e.messageId, from: e.direction === 'in' ? 'user' : 'bot', text, at: new Date(e.message.date * 1000).toISOString(), inline };
  });
  return { messages: messages.slice(-MAX_MESSAGES), keyboard };
}

export function vkChat(sandbox: Sandbox, person: SandboxPerson): ChatView {
  const conversation = sandbox.vk.conversation(sandbox.vkGroupId, person.userId);
  const toButtons = (rows: Array<Array<{ type: string; label?: string; link?: string; payload?: string }>>) =>
    rows.map((row) => row.map((b): ViewButton => (b.type === 'open_link' ? { label: b.label ?? '', kind: 'url', url: b.link! } : { label: b.label ?? '', kind: b.type === 'callback' ? 'callback' : 'text', data: b.label ?? '' })));
  const messages = conversation.messages
    .filter((m) => !m.deleted)
    .map((m): ViewMessage => ({ id: m.conversationMessageId, from: m.out ? 'bot' : 'user', text: m.text, at: new Date(m.date * 1000).toISOString(), inline: m.keyboard?.inline ? toButtons(m.keyboard.buttons) : [] }));
  return { messages: messages.slice(-MAX_MESSAGES), keyboard: conversation.keyboard ? toButtons(conversation.keyboard.buttons) : [] };
}

export function chatOf(sandbox: Sandbox, person: SandboxPerson): ChatView {
  return person.platform === 'telegram' ? telegramChat(sandbox, person) : vkChat(sandbox, person);
}
