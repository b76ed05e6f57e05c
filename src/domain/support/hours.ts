/**
 * Working hours of the support team: "mon-fri 09:00-18:00, sat 10:00-16:00" in one IANA time
 * zone. Outside them a customer is told when someone will answer. An empty spec means "always".
 */
import { DomainError } from '../../errors.js';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
type Day = (typeof DAYS)[number];

export interface HoursRange {
  /** 0 = Sunday … 6 = Saturday. */
  day: number;
  /** Minutes since local midnight; `to` may be 1440. */
  from: number;
  to: number;
}

export interface WorkingHours {
  readonly always: boolean;
  readonly ranges: readonly HoursRange[];
  readonly timeZone: string;
  /** True when `at` falls inside a range. */
  isOpen(at: Date): boolean;
  /** The next moment the team is at work (now when open); undefined when never. */
  nextOpening(at: Date): Date | undefined;
}

const dayIndex = (d: string): number => DAYS.indexOf(d as Day);

function minutes(hhmm: string): number | undefined {
  const m = /^(\d{1,2}):(\d{2})$/.exec(hhmm);
  if (!m) return undefined;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (min > 59 || h > 24 || (h === 24 && min !== 0)) return undefined;
  return h * 60 + min;
}

/**
 * Parses SUPPORT_HOURS. Entries are comma-separated "<days> <HH:MM>-<HH:MM>"; days are one day
 * or a span ("mon-fri", "sat", "sun-mon"). Throws DomainError invalid_input naming the entry.
 */
export function parseWorkingHours(spec: string | undefined, timeZone: string): WorkingHours {
  const ranges: HoursRange[] = [];
  const text = (spec ?? '').trim().toLowerCase();
  if (text !== '' && text !== 'always' && text !== '24/7') {
    for (const raw of text.split(',')) {
      const entry = raw.trim();
      const m = /^([a-z]{3})(?:-([a-z]{3}))?\s+(\d{1,2}:\d{2})-(\d{1,2}:\d{2})$/.exec(entry);
      const first = m ? dayIndex(m[1]!) : -1;
      const last = m ? (m[2] ? dayIndex(m[2]) : first) : -1;
      const from = m ? minutes(m[3]!) : undefined;
      const to = m ? minutes(m[4]!) : undefined;
      if (!m || first < 0 || last < 0 || from === undefined || to === undefined || to <= from) {
        throw new DomainError('invalid_input', `"${entry}" is not "<day>[-<day>] HH:MM-HH:MM" (days: ${DAYS.join(', ')})`);
      }
      for (let d = first; ; d = (d + 1) % 7) {
        ranges.push({ day: d, from, to });
        if (d === last) break;
      }
    }
  }
  const always = ranges.length === 0;

  function local(at: Date): { day: number; minute: number } {
    const parts = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at);
    const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
    return { day: dayIndex(get('weekday').toLowerCase().slice(0, 3)), minute: Number(get('hour')) * 60 + Number(get('minute')) };
  }

  const isOpen = (at: Date) => {
    if (always) return true;
    const { day, minute } = local(at);
    return ranges.some((r) => r.day === day && minute >= r.from && minute < r.to);
  };

  return {
    always,
    ranges,
    timeZone,
    isOpen,
    nextOpening(at) {
      if (isOpen(at)) return at;
      if (always) return at;
      // Minutes from now to the nearest range start, in local wall time (a DST change inside
      // the gap shifts the answer by its hour; a reply saying "about 09:00" tolerates that).
      const { day, minute } = local(at);
      const now = day * 1440 + minute;
      let best = Infinity;
      for (const r of ranges) {
        let start = r.day * 1440 + r.from - now;
        if (start <= 0) start += 7 * 1440;
        best = Math.min(best, start);
      }
      if (best !== Infinity) return new Date((Math.floor(at.getTime() / 60_000) + best) * 60_000);
      return undefined;
    },
  };
}
