import { VkApiError } from './errors.js';

export type FakeVkButtonType = 'text' | 'open_link' | 'callback' | 'location' | 'vkpay' | 'open_app';

/** A button as VK stores it after validation. */
export interface FakeVkButton {
  type: FakeVkButtonType;
  label?: string;
  /** The payload JSON string exactly as the bot sent it. */
  payload?: string;
  color?: 'primary' | 'secondary' | 'negative' | 'positive';
  link?: string;
  action: Record<string, unknown>;
}

export interface FakeVkKeyboard {
  oneTime: boolean;
  inline: boolean;
  buttons: FakeVkButton[][];
}

const TYPES = new Set<string>(['text', 'open_link', 'callback', 'location', 'vkpay', 'open_app']);
const COLORS = new Set<string>(['primary', 'secondary', 'negative', 'positive']);
const COLORED = new Set<string>(['text', 'callback']);
const LABELED = new Set<string>(['text', 'callback', 'open_link', 'open_app']);

export const KEYBOARD_LIMITS = {
  inline: { rows: 6, perRow: 5, total: 10 },
  standard: { rows: 10, perRow: 5, total: 40 },
  labelLength: 40,
  payloadLength: 255,
} as const;

function invalid(): VkApiError {
  return new VkApiError(911);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses and validates a `keyboard` parameter; throws error 911 as VK does. */
export function parseKeyboard(raw: string): FakeVkKeyboard {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw invalid();
  }
  if (!isRecord(json) || !Array.isArray(json.buttons)) throw invalid();
  const inline = json.inline === true || json.inline === 1;
  const oneTime = json.one_time === true || json.one_time === 1;
  if (inline && oneTime) throw invalid();
  const limits = inline ? KEYBOARD_LIMITS.inline : KEYBOARD_LIMITS.standard;
  if (json.buttons.length > limits.rows) throw invalid();
  let total = 0;
  const rows: FakeVkButton[][] = [];
  for (const rawRow of json.buttons) {
    if (!Array.isArray(rawRow) || rawRow.length > limits.perRow) throw invalid();
    total += rawRow.length;
    if (total > limits.total) throw invalid();
    rows.push(rawRow.map(parseButton));
  }
  return { oneTime, inline, buttons: rows };
}

function parseButton(raw: unknown): FakeVkButton {
  if (!isRecord(raw) || !isRecord(raw.action)) throw invalid();
  const action = raw.action;
  const type = action.type;
  if (typeof type !== 'string' || !TYPES.has(type)) throw invalid();
  const button: FakeVkButton = { type: type as FakeVkButtonType, action };
  if (raw.color !== undefined) {
    if (!COLORED.has(type) || typeof raw.color !== 'string' || !COLORS.has(raw.color)) throw invalid();
    button.color = raw.color as NonNullable<FakeVkButton['color']>;
  }
  if (LABELED.has(type)) {
    if (typeof action.label !== 'string' || action.label.length === 0) throw invalid();
    if (action.label.length > KEYBOARD_LIMITS.labelLength) throw invalid();
    button.label = action.label;
  }
  if (action.payload !== undefined) {
    const payload = typeof action.payload === 'string' ? action.payload : JSON.stringify(action.payload);
    if (payload.length > KEYBOARD_LIMITS.payloadLength) throw invalid();
    try {
      JSON.parse(payload);
    } catch {
      throw invalid();
    }
    button.payload = payload;
  }
  if (type === 'open_link') {
    if (typeof action.link !== 'string' || !/^https?:\/\//i.test(action.link)) throw invalid();
    button.link = action.link;
  }
  if (type === 'vkpay' && typeof action.hash !== 'string') throw invalid();
  if (type === 'open_app' && action.app_id === undefined) throw invalid();
  return button;
}
