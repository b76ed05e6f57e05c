/**
 * The staff bot's broadcast wizard as a pure state machine, free of Telegraf: the bot feeds
 * it what the admin did (a text, a photo, a button press, /cancel) and gets back the next
 * state (plain, serializable, versioned, to keep in the bot's session), what to say (an
 * i18n key with values and the buttons to offer) and effects to run (count the segment,
 * send the preview to the admin, create and start the broadcast). Effects' results come
 * back as events (`counted`, `created`).
 *
 * Steps: title → kind (text or picture) → [picture] → text per shop language (the default
 * first; others may be skipped and fall back to it) → link button (optional) → segment →
 * audience count (confirm or change) → preview sent to the admin → now or at a time →
 * confirm. "Cancel" works at every step.
 */
import { BUTTON_LABEL_MAX, CAPTION_MAX, TEXT_MAX, parseContent, type BroadcastContent } from './content.js';
import { parseSegment, type Segment, type SegmentCount } from './segment.js';
import { DomainError } from '../../errors.js';

export const WIZARD_VERSION = 1;

export type WizardStep = 'title' | 'kind' | 'photo' | 'text' | 'button' | 'segment' | 'counting' | 'audience' | 'when' | 'time' | 'confirm' | 'creating' | 'done' | 'cancelled';

export interface WizardDraft {
  title?: string;
  imageUrl?: string | null;
  text: Record<string, string>;
  buttons: Array<{ text: Record<string, string>; url: string }>;
  segment?: Segment;
  count?: SegmentCount;
  scheduledAt?: string | null;
}

export interface WizardState {
  v: typeof WIZARD_VERSION;
  step: WizardStep;
  /** Index into the shop's languages while asking for texts. */
  lang: number;
  draft: WizardDraft;
  /** The broadcast once created. */
  broadcastId?: string;
}

export type WizardEvent =
  | { type: 'text'; text: string }
  /** A picture the bot turned into a URL Telegram and VK can fetch. */
  | { type: 'photo'; url: string }
  | { type: 'choice'; value: string }
  | { type: 'cancel' }
  | { type: 'counted'; count: SegmentCount }
  | { type: 'created'; id: string; status: string };

export interface WizardPrompt {
  /** i18n key under broadcasts.wizard.* */
  key: string;
  values?: Record<string, string | number>;
  /** Buttons to offer: value to send back as a `choice`, and the i18n key of the label. */
  choices?: Array<{ value: string; label: string; values?: Record<string, string | number> }>;
  /** The key of a problem with the last input, shown before the prompt. */
  error?: string;
  errorValues?: Record<string, string | number>;
}

export type WizardEffect =
  | { type: 'count'; segment: Segment }
  | { type: 'preview'; content: BroadcastContent }
  | { type: 'create'; input: { title: string; text: Record<string, string>; imageUrl?: string; buttons?: Array<{ text: Record<string, string>; url: string }>; segment: Segment; scheduledAt?: string } };

export interface WizardResult {
  state: WizardState;
  prompt: WizardPrompt;
  effects: WizardEffect[];
}

export interface WizardSettings {
  /** The shop's languages, default first. */
  languages: readonly string[];
  defaultLanguage: string;
  timeZone: string;
  now: Date;
}

/** Segment presets offered as buttons; "custom" takes a JSON segment as text. */
export const SEGMENT_PRESETS: Record<string, Segment> = {
  all: {},
  telegram: { platforms: ['telegram'] },
  vk: { platforms: ['vk'] },
  recent30: { orderedWithinDays: 30 },
  lapsed90: { noOrdersWithinDays: 90 },
};

const W = 'broadcasts.wizard';
const cancelChoice = { value: 'cancel', label: `${W}.button.cancel` };

function orderedLanguages(s: WizardSettings): string[] {
  return [s.defaultLanguage, ...s.languages.filter((l) => l !== s.defaultLanguage)];
}

/** What to ask at a step (also used to repeat the question after a bad input). */
export function promptFor(state: WizardState, s: WizardSettings): WizardPrompt {
  const d = state.draft;
  switch (state.step) {
    case 'title':
      return { key: `${W}.askTitle`, choices: [cancelChoice] };
    case 'kind':
      return { key: `${W}.askKind`, choices: [{ value: 'text', label: `${W}.button.text` }, { value: 'photo', label: `${W}.button.photo` }, cancelChoice] };
    case 'photo':
      return { key: `${W}.askPhoto`, choices: [cancelChoice] };
    case 'text': {
      const lang = orderedLanguages(s)[state.lang]!;
      const optional = lang !== s.defaultLanguage;
      return {
        key: d.imageUrl ? `${W}.askCaption` : `${W}.askText`,
        values: { language: lang, max: d.imageUrl ? CAPTION_MAX : TEXT_MAX },
        choices: [...(optional ? [{ value: 'skip', label: `${W}.button.skipLanguage`, values: { language: s.defaultLanguage } }] : []), cancelChoice],
      };
    }
    case 'button':
      return { key: `${W}.askButton`, values: { max: BUTTON_LABEL_MAX }, choices: [{ value: 'none', label: `${W}.button.noButton` }, cancelChoice] };
    case 'segment':
      return { key: `${W}.askSegment`, choices: [...Object.keys(SEGMENT_PRESETS).map((p) => ({ value: `segment:${p}`, label: `${W}.segment.${p}` })), cancelChoice] };
    case 'counting':
      return { key: `${W}.counting` };
    case 'audience': {
      const c = d.count!;
      const choices = [...(c.customers > 0 ? [{ value: 'ok', label: `${W}.button.audienceOk` }] : []), { value: 'change', label: `${W}.button.changeSegment` }, cancelChoice];
      return { key: c.customers > 0 ? `${W}.audience` : `${W}.audienceEmpty`, values: { customers: c.customers, telegram: c.byPlatform.telegram, vk: c.byPlatform.vk, blocked: c.blocked }, choices };
    }
    case 'when':
      return { key: `${W}.askWhen`, choices: [{ value: 'now', label: `${W}.button.now` }, { value: 'later', label: `${W}.button.later` }, cancelChoice] };
    case 'time':
      return { key: `${W}.askTime`, values: { timeZone: s.timeZone }, choices: [cancelChoice] };
    case 'confirm':
      return {
        key: d.scheduledAt ? `${W}.confirmAt` : `${W}.confirmNow`,
        values: { title: d.title ?? '', customers: d.count?.customers ?? 0, at: d.scheduledAt ?? '' },
        choices: [{ value: 'confirm', label: `${W}.button.confirm` }, cancelChoice],
      };
    case 'creating':
      return { key: `${W}.creating` };
    case 'done':
      return { key: state.draft.scheduledAt ? `${W}.scheduled` : `${W}.started`, values: { at: state.draft.scheduledAt ?? '' } };
    case 'cancelled':
      return { key: `${W}.cancelled` };
  }
}

/** Starts the wizard for a staff member; only admins may broadcast. */
export function startWizard(actor: { isAdmin: boolean }, s: WizardSettings): WizardResult | { refused: true; prompt: WizardPrompt } {
  if (!actor.isAdmin) return { refused: true, prompt: { key: `${W}.notAdmin` } };
  const state: WizardState = { v: WIZARD_VERSION, step: 'title', lang: 0, draft: { text: {}, buttons: [] } };
  return { state, prompt: promptFor(state, s), effects: [] };
}

/** Wall-clock "YYYY-MM-DD HH:MM" in `timeZone` → an instant. */
export function parseLocalTime(input: string, timeZone: string): Date | undefined {
  const m = /^\s*(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})\s*$/.exec(input);
  if (!m) return undefined;
  const [y, mo, d, h, mi] = m.slice(1).map(Number) as [number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59) return undefined;
  const asUtc = Date.UTC(y, mo - 1, d, h, mi);
  // The zone's offset at that moment (twice, to settle across a DST change).
  let t = asUtc;
  for (let i = 0; i < 2; i++) t = asUtc - offsetMs(new Date(t), timeZone);
  const check = new Date(t);
  if (Number.isNaN(check.getTime())) return undefined;
  return check;
}

function offsetMs(at: Date, timeZone: string): number {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(at).map((p) => [p.type, p.value]));
  const local = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return local - Math.floor(at.getTime() / 1000) * 1000;
}

/** The next state for an event. Never throws on bad input: it answers with an error key and stays. */
export function advance(state: WizardState, event: WizardEvent, s: WizardSettings): WizardResult {
  if (state.v !== WIZARD_VERSION) {
    const cancelled: WizardState = { ...state, v: WIZARD_VERSION, step: 'cancelled' };
    return { state: cancelled, prompt: { key: `${W}.outdated` }, effects: [] };
  }
  const at = (next: WizardState, effects: WizardEffect[] = []): WizardResult => ({ state: next, prompt: promptFor(next, s), effects });
  const stay = (error: string, errorValues?: Record<string, string | number>): WizardResult => ({ state, prompt: { ...promptFor(state, s), error: `${W}.error.${error}`, ...(errorValues ? { errorValues } : {}) }, effects: [] });
  const with_ = (step: WizardStep, draft: Partial<WizardDraft> = {}, extra: Partial<WizardState> = {}): WizardState => ({ ...state, ...extra, step, draft: { ...state.draft, ...draft } });

  if (state.step === 'done' || state.step === 'cancelled') return { state, prompt: promptFor(state, s), effects: [] };
  if (event.type === 'cancel' || (event.type === 'choice' && event.value === 'cancel')) {
    // Once the create effect ran, the broadcast exists: cancel it through the admin API or /broadcasts.
    if (state.step === 'creating') return stay('tooLate');
    return at(with_('cancelled'));
  }
  const languages = orderedLanguages(s);

  switch (state.step) {
    case 'title': {
      if (event.type !== 'text') return stay('expectedText');
      const title = event.text.trim();
      if (title.length === 0 || title.length > 200) return stay('titleLength', { max: 200 });
      return at(with_('kind', { title }));
    }
    case 'kind':
      if (event.type === 'choice' && event.value === 'text') return at(with_('text', { imageUrl: null }, { lang: 0 }));
      if (event.type === 'choice' && event.value === 'photo') return at(with_('photo'));
      if (event.type === 'photo') return at(with_('text', { imageUrl: event.url }, { lang: 0 }));
      return stay('expectedChoice');
    case 'photo':
      if (event.type !== 'photo') return stay('expectedPhoto');
      return at(with_('text', { imageUrl: event.url }, { lang: 0 }));
    case 'text': {
      const lang = languages[state.lang]!;
      const nextLang = (text: Record<string, string>): WizardResult =>
        state.lang + 1 < languages.length ? at(with_('text', { text }, { lang: state.lang + 1 })) : at(with_('button', { text }));
      if (event.type === 'choice' && event.value === 'skip' && lang !== s.defaultLanguage) return nextLang(state.draft.text);
      if (event.type !== 'text') return stay('expectedText');
      try {
        parseContent({ text: { [s.defaultLanguage]: event.text }, imageUrl: state.draft.imageUrl ?? null }, [s.defaultLanguage], s.defaultLanguage);
      } catch (err) {
        if (err instanceof DomainError) return stay('badText', { problem: err.message.replace(/^text\.\w+: /, '') });
        throw err;
      }
      return nextLang({ ...state.draft.text, [lang]: event.text });
    }
    case 'button': {
      if (event.type === 'choice' && event.value === 'none') return at(with_('segment', { buttons: [] }));
      if (event.type !== 'text') return stay('expectedButton');
      // "Label | https://..." or one label per language: "Метка | Label | https://...".
      const parts = event.text.split('|').map((p) => p.trim());
      const url = parts.pop() ?? '';
      const labels = parts.length === 1 ? Object.fromEntries(languages.map((l) => [l, parts[0]!])) : parts.length === languages.length ? Object.fromEntries(languages.map((l, i) => [l, parts[i]!])) : undefined;
      if (!labels) return stay('badButton');
      try {
        const content = parseContent({ text: { [s.defaultLanguage]: 'x' }, buttons: [{ text: labels, url }] }, languages, s.defaultLanguage);
        return at(with_('segment', { buttons: content.buttons ?? [] }));
      } catch (err) {
        if (err instanceof DomainError) return stay('badButton');
        throw err;
      }
    }
    case 'segment': {
      let segment: Segment | undefined;
      if (event.type === 'choice' && event.value.startsWith('segment:')) segment = SEGMENT_PRESETS[event.value.slice('segment:'.length)];
      else if (event.type === 'text') {
        try {
          segment = parseSegment(JSON.parse(event.text), s.languages);
        } catch (err) {
          return stay('badSegment', { problem: err instanceof DomainError ? err.message : 'not JSON' });
        }
      }
      if (!segment) return stay('expectedSegment');
      return at(with_('counting', { segment }), [{ type: 'count', segment }]);
    }
    case 'counting':
      if (event.type !== 'counted') return stay('wait');
      return at(with_('audience', { count: event.count }));
    case 'audience':
      if (event.type === 'choice' && event.value === 'change') return at(with_('segment'));
      if (event.type === 'choice' && event.value === 'ok' && (state.draft.count?.customers ?? 0) > 0) {
        const d = state.draft;
        return at(with_('when'), [{ type: 'preview', content: { text: d.text, imageUrl: d.imageUrl ?? null, buttons: d.buttons.length ? d.buttons : null } }]);
      }
      return stay('expectedChoice');
    case 'when':
      if (event.type === 'choice' && event.value === 'now') return at(with_('confirm', { scheduledAt: null }));
      if (event.type === 'choice' && event.value === 'later') return at(with_('time'));
      return stay('expectedChoice');
    case 'time': {
      if (event.type !== 'text') return stay('expectedTime');
      const when = parseLocalTime(event.text, s.timeZone);
      if (!when) return stay('badTime');
      if (when.getTime() <= s.now.getTime()) return stay('pastTime');
      return at(with_('confirm', { scheduledAt: when.toISOString() }));
    }
    case 'confirm': {
      if (!(event.type === 'choice' && event.value === 'confirm')) return stay('expectedChoice');
      const d = state.draft;
      const input = {
        title: d.title!,
        text: d.text,
        ...(d.imageUrl ? { imageUrl: d.imageUrl } : {}),
        ...(d.buttons.length ? { buttons: d.buttons } : {}),
        segment: d.segment!,
        ...(d.scheduledAt ? { scheduledAt: d.scheduledAt } : {}),
      };
      return at(with_('creating'), [{ type: 'create', input }]);
    }
    case 'creating':
      if (event.type !== 'created') return stay('wait');
      return at(with_('done', {}, { broadcastId: event.id }));
  }
  return stay('expectedChoice');
}
