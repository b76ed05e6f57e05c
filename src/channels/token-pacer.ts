/**
 * A bot token's send rate, shared by every process through Redis, as evenly spaced slots
 * (GCRA: one "next free slot" time per token). Telegram counts messages per bot, summed
 * over everything that sends with the token: notifications and broadcasts take their slots
 * from this one pacer in every worker process, so their sum stays under the cap.
 *
 * Spacing: one slot every 1000 / (cap × 0.97) ms (30/s → 34.4 ms, 29.1/s; 1000/s → 1.03 ms,
 * 970/s). cap + 1 messages then span cap × spacing ≈ 1031 ms, so a platform counting in a
 * strict 1-second window sees more than the cap only if the requests' delays between the
 * grant and their arrival differ by more than ~30 ms; the price is 3% of the cap.
 *
 * Two priorities on one schedule. A slot is granted only if it lies within a horizon
 * ahead of now: short for broadcasts (`low`, 200 ms), long for notifications (`high`, 2 s).
 * A notification therefore queues behind at most ~200 ms of broadcast slots, and while
 * notifications keep the schedule more than 200 ms ahead, broadcasts wait: an order update
 * never waits for a promotion. Slots can be taken several at a time (a broadcast chunk
 * reserves a run of them in one round trip); each caller sends at its slots' times.
 *
 * Times come from Redis (`TIME`), so processes with skewed clocks agree; a caller turns the
 * offset it gets back into its own clock: it waits until the slot counted from the answer's
 * arrival (never early) and drops the slot when it is more than PACER_LATE_MS past it
 * counted from when Redis granted it (Redis's clock is in the answer; an answer read late by
 * a stalled process shows as a larger gap between the clocks than usual), so one process's
 * late sends never bunch with another's on-time ones.
 *
 * Start-up: a process's first message goes out later after its slot than any other (a new
 * connection, code run for the first time), later than that check can see: the slots of the
 * COLD_START_MS after it are booked and left empty. And before its first grant a pacer makes
 * CALIBRATION_SAMPLES TIME round trips, so a late-read first answer is recognised as late.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export type PacerPriority = 'high' | 'low';

/** Below the cap by this share: the margin that absorbs uneven request delays (see above). */
export const PACER_HEADROOM = 0.03;

/**
 * A slot is used only within this long after its time. A process that stalled (a busy CPU,
 * a long GC) would otherwise fire every slot it missed at once, and a run of late slots
 * landing together with the next on-time ones is more than the cap in one second. A late
 * slot is dropped and the message takes a new one: under load the rate falls, the cap holds.
 */
export const PACER_LATE_MS = 15;

/** True when a slot due at `at` (local ms) may no longer be used. */
export const slotMissed = (at: number, now = Date.now()): boolean => now - at > PACER_LATE_MS;

export interface TokenPacerSettings {
  redis: Redis;
  /** The Redis key of this schedule (one per token; never the token itself). */
  key: string;
  /** The platform's cap in messages per second. */
  ratePerSecond: number;
  /**
   * How far ahead a slot may be granted, per priority. Defaults: low 200 ms (enough for a
   * loaded process to come back for more before the schedule runs dry), high 2000 ms.
   */
  horizonMs?: Partial<Record<PacerPriority, number>>;
  sleep?: (ms: number) => Promise<void>;
}

export interface SlotGrant {
  /** Slots granted: the first `firstInMs` from the moment of the answer, then every `spacingMs`. */
  count: number;
  firstInMs: number;
  spacingMs: number;
  /** count 0 (nothing free within the horizon): ask again in this long. */
  waitMs: number;
  /**
   * How much later than usual the answer was read (ms): Redis's clock at the grant against
   * this process's, less the smallest such difference seen lately (clock offset + the fastest
   * delivery). An answer that sat in a stalled process makes its slots late by this much, not
   * later: lateness is judged from (arrival − delayMs + offset).
   */
  delayMs: number;
}

export interface TokenPacer {
  /** Milliseconds between two slots. */
  readonly spacingMs: number;
  /** Reserves up to `count` consecutive slots. */
  reserve(count: number, priority: PacerPriority): Promise<SlotGrant>;
  /**
   * Resolves at the time of one slot (reserved now, FIFO with everyone else's), with that time
   * as the lateness check counts it (this process's clock, ms): a caller with more work before
   * its send (a database round trip) asks `slotMissed(slot)` again right before sending.
   */
  acquire(priority: PacerPriority): Promise<number>;
  /** After a bot-wide 429: no slot for anyone until `ms` from now (never shortens a longer hold). */
  hold(ms: number): Promise<void>;
}

// Times in microseconds (µs since the epoch fit a Lua double exactly). KEYS[1] the next free
// slot; ARGV: spacing µs, slots wanted, horizon µs. Returns {granted, µs to the first slot, now}
// or {0, µs to wait, now}.
const RESERVE = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local spacing = tonumber(ARGV[1])
local horizon = tonumber(ARGV[3])
local tat = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
local ahead = tat - now
if ahead > horizon then return {0, math.ceil(ahead - horizon), now} end
local n = math.min(tonumber(ARGV[2]), math.floor((horizon - ahead) / spacing) + 1)
local last = tat + n * spacing
redis.call('SET', KEYS[1], string.format('%.0f', last), 'PX', math.ceil((last - now) / 1000) + 1000)
return {n, math.floor(ahead), now}`;

// KEYS[1] the next free slot; ARGV[1] hold µs.
const HOLD = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local until_ = now + tonumber(ARGV[1])
if until_ > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], string.format('%.0f', until_), 'PX', math.ceil(tonumber(ARGV[1]) / 1000) + 1000)
end
return 0`;

/** Slots left empty after a process's first message (see `cold` in createTokenPacer). */
export const COLD_START_MS = 50;

/** TIME round trips a pacer makes before its first grant (see calibrate). */
const CALIBRATION_SAMPLES = 3;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createTokenPacer(settings: TokenPacerSettings): TokenPacer {
  const { redis, key } = settings;
  const sleep = settings.sleep ?? defaultSleep;
  const rate = Math.max(1, settings.ratePerSecond) * (1 - PACER_HEADROOM);
  const spacingUs = Math.ceil(1_000_000 / rate);
  const spacingMs = spacingUs / 1000;
  const horizonUs = { low: (settings.horizonMs?.low ?? 200) * 1000, high: (settings.horizonMs?.high ?? 2000) * 1000 };

  // Local minus Redis clock at each answer's arrival (ms); the smallest of the recent ones is
  // the clock offset plus the fastest delivery.
  const skews: number[] = [];
  function delayOf(redisNowUs: number): number {
    const skew = Date.now() - redisNowUs / 1000;
    skews.push(skew);
    if (skews.length > 64) skews.shift();
    return Math.max(0, skew - Math.min(...skews));
  }

  // A process's first answers are often read late (start-up keeps it busy), and with no earlier
  // answer to compare, such a late answer would look on time: its slot would go out late and
  // bunch with the next process's on-time one (seen as VK's error 6 in a broadcast's first
  // second). A few TIME round trips first give the comparison something to go by.
  let calibration: Promise<void> | undefined;
  async function calibrate(): Promise<void> {
    for (let i = 0; i < CALIBRATION_SAMPLES; i++) {
      const [seconds, micros] = await redis.time();
      delayOf(Number(seconds) * 1_000_000 + Number(micros));
    }
  }

  // The first message of a process is sent later after its slot than any other (a new
  // connection, code run for the first time: ~35 ms here), too late to bunch with nothing: the
  // next COLD_START_MS of slots after it are booked and left empty.
  let cold = true;
  const coldSlots = Math.ceil(COLD_START_MS / spacingMs);

  async function reserve(count: number, priority: PacerPriority): Promise<SlotGrant> {
    if (skews.length < CALIBRATION_SAMPLES) await (calibration ??= calibrate().catch(() => undefined));
    const first = cold;
    const want = first ? 1 + coldSlots : Math.max(1, Math.floor(count));
    const [granted, us, redisNow] = (await redis.eval(RESERVE, 1, key, spacingUs, want, horizonUs[priority])) as [number, number, number];
    const delayMs = delayOf(redisNow);
    if (granted === 0) return { count: 0, firstInMs: 0, spacingMs, waitMs: Math.max(1, Math.ceil(us / 1000)), delayMs };
    if (first) cold = false;
    return { count: first ? 1 : granted, firstInMs: us / 1000, spacingMs, waitMs: 0, delayMs };
  }

  return {
    spacingMs,
    reserve,
    async acquire(priority) {
      for (;;) {
        const grant = await reserve(1, priority);
        if (grant.count > 0) {
          const slot = Date.now() + grant.firstInMs - grant.delayMs;
          if (grant.firstInMs >= 1) await sleep(grant.firstInMs);
          if (!slotMissed(slot)) return slot;
          continue;
        }
        await sleep(grant.waitMs);
      }
    },
    async hold(ms) {
      await redis.eval(HOLD, 1, key, Math.max(1, Math.ceil(ms * 1000)));
    },
  };
}

/**
 * The Telegram bot's pacer: one Redis key per bot (its numeric id, or a hash of the token
 * when it has none), at the bot's cap (TELEGRAM_RATE_LIMIT, or 1000 with paid broadcasts).
 */
export function createTelegramTokenPacer(deps: { redis: Redis; redisKeyPrefix: string; token: string; ratePerSecond: number }): TokenPacer {
  const bot = /^(\d+):/.exec(deps.token)?.[1] ?? createHash('sha256').update(deps.token).digest('hex').slice(0, 16);
  return createTokenPacer({ redis: deps.redis, key: `${deps.redisKeyPrefix}pace:telegram:${bot}:token`, ratePerSecond: deps.ratePerSecond });
}

export interface SlotRunResult<T> {
  /** Items never sent: `proceed` said stop before their slot came. */
  unsent: T[];
  /** Items whose `send` threw (it should classify its own failures; this is what escaped). */
  errors: Array<{ item: T; error: unknown }>;
}

/**
 * Sends `items` concurrently, each at a slot of `pacer`: reserves runs of slots (as many as
 * fit the priority's horizon), sends each item at its slot's time, and gives a missed slot's
 * item a new one. `proceed` is asked before each run of slots (false: stop taking slots; the
 * items not started are returned). `send` gets `again()` to put its item back for a later
 * slot (after a 429 that nothing went out for).
 */
export async function sendAtSlots<T>(
  pacer: TokenPacer,
  items: readonly T[],
  priority: PacerPriority,
  send: (item: T, again: () => void) => Promise<void>,
  proceed?: () => Promise<boolean>,
): Promise<SlotRunResult<T>> {
  const waiting = [...items];
  const errors: SlotRunResult<T>['errors'] = [];
  const inFlight = new Set<Promise<void>>();
  while (waiting.length > 0 || inFlight.size > 0) {
    if (waiting.length === 0) {
      await Promise.race(inFlight);
      continue;
    }
    if (proceed && !(await proceed())) break;
    const grant = await pacer.reserve(waiting.length, priority);
    if (grant.count === 0) {
      // Not less than a few ms: many callers polling a full schedule would only spin.
      await defaultSleep(Math.min(Math.max(grant.waitMs, 10), 100));
      continue;
    }
    const base = Date.now() + grant.firstInMs;
    for (let i = 0; i < grant.count && waiting.length > 0; i++) {
      const item = waiting.shift()!;
      const at = base + i * grant.spacingMs;
      const p: Promise<void> = (async () => {
        const wait = at - Date.now();
        if (wait >= 1) await defaultSleep(wait);
        // This process stalled past the slot (or held Redis's answer): sending now would bunch
        // with the next ones, its own or another process's.
        if (slotMissed(at - grant.delayMs)) return void waiting.unshift(item);
        await send(item, () => waiting.unshift(item));
      })()
        .catch((error: unknown) => void errors.push({ item, error }))
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    // Ask for more while 100 ms of these slots are left (a grant reaches at most the horizon ahead).
    const lead = base + grant.count * grant.spacingMs - Date.now() - 100;
    if (lead >= 1) await defaultSleep(Math.min(lead, 100));
  }
  await Promise.all(inFlight);
  return { unsent: waiting, errors };
}
