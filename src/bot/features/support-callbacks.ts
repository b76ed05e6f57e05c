/**
 * The customer's support buttons, in one place: both the customer bot (which handles them) and
 * the staff side (which sends the rating question after an operator closes) build them here.
 */
import { defineCallbacks } from '../keyboards/callback-data.js';

export const supportCb = defineCallbacks('sup', {
  /** End the chat with the operator. */
  end: [['id', 'uuid']],
  /** A 1-5 rating of a closed conversation. */
  rate: [['id', 'uuid'], ['n', 'int']],
});

export type InlineButtons = { inline_keyboard: Array<Array<{ text: string; callback_data: string }>> };

/** ★1 … ★5 under the question "how did we do?". */
export function ratingKeyboard(conversationId: string): InlineButtons {
  return { inline_keyboard: [[1, 2, 3, 4, 5].map((n) => ({ text: `${n} ⭐`, callback_data: supportCb.encode('rate', { id: conversationId, n }) }))] };
}

export function endChatKeyboard(conversationId: string, label: string): InlineButtons {
  return { inline_keyboard: [[{ text: label, callback_data: supportCb.encode('end', { id: conversationId }) }]] };
}
