/**
 * The durable, per-chat ordered inbound queue: webhooks record an update here and answer at
 * once; consumers (the worker role) run the brain. Redis is the only shared state, so any
 * number of web instances record and any number of consumers handle.
 *
 * Keys (under `prefix`):
 * - `seen:<id>`   dedup of the platform's id (update_id, VK event_id), set with the record;
 * - `item:<id>`   hash { p: payload, a: attempts, c: chat, t: recorded at (ms, Redis time), e: last error };
 * - `q:<chat>`    list of the chat's item ids, in arrival order;
 * - `sched`       set of chats that have items (each is in exactly one of ready, claims, delayed);
 * - `ready`       list of chats waiting for a consumer;
 * - `claims`      zset chat → lease expiry (ms, Redis time); `owners` hash chat → fencing token
 *                 (from `fence`, a counter kept at or above Redis's clock in µs, so it never
 *                 repeats a token after a restart that lost its last writes);
 * - `delayed`     zset chat → when to retry (after a failed attempt);
 * - `dead`        list of item ids given up after `maxAttempts` (kept with their error; requeueDead).
 *
 * Guarantees:
 * - recorded means recorded: the webhook answers only after the enqueue script ran, and an item
 *   leaves its chat's list only when a consumer acknowledges it after the handler returned;
 * - one consumer per chat at a time (the claim), so one chat's updates run one by one in
 *   arrival order across every process; other chats run in parallel (`concurrency` per process);
 * - a consumer that dies or stalls past its lease loses the claim: the sweep (every consumer,
 *   every `sweepMs`) gives the chat to another, which runs the unacknowledged item again. The
 *   stale consumer's acknowledgement is refused by its fencing token (and the brain's writes by
 *   the chat lock's);
 * - the next update of a chat is taken in the same round trip that acknowledges the previous
 *   one: the hand-over costs one Redis call; but a consumer at its concurrency cap hands the
 *   chat back to the tail of `ready` when other chats wait there, so chats with a steady
 *   stream of updates take turns with the waiting ones instead of keeping every place;
 * - the handler's state writes (`claim.write`: session, flow, identity kept) land in that same
 *   script, fenced, atomically with the acknowledgement: an update re-run after its process died
 *   meets the state it met the first time (not a flow already moved on by the half-run);
 * - a failing item is retried with backoff (the chat waits, others go on); after `maxAttempts`
 *   (counted in Redis, so a handler that crashes its process counts too) it moves to `dead` with
 *   its error, logged, and the chat goes on.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from '../../infra/logger.js';
import type { Redis } from '../../infra/redis.js';
import { scriptRunner } from '../../infra/redis-script.js';

export interface InboundItem {
  chat: string;
  id: string;
  payload: string;
  /** 1 on the first run. */
  attempt: number;
  /** When the update was recorded (ms since the epoch, Redis's clock); NaN for items recorded before this field. */
  recordedAt: number;
  /**
   * Read with the claim: the value of each consumer `readPrefixes[i]` + chat (null when absent),
   * as it was when this item was taken (nothing else writes them while the chat is claimed).
   */
  values?: (string | null)[];
  /** The consumer's claim on the chat while this item runs (absent outside a consumer). */
  claim?: InboundClaim;
}

/**
 * A consumer's hold on a chat: one consumer per chat at a time, across every process. Its
 * fencing token is checked by `write` atomically with the write, so a consumer that lost the
 * chat (stalled past its lease; the sweep gave it to another) can no longer change its state.
 */
export interface InboundClaim {
  readonly chat: string;
  readonly token: string;
  /** Known locally to be lost (a heartbeat found another owner). */
  readonly lost: boolean;
  /** Aborted when the claim is known to be lost. */
  readonly signal: AbortSignal;
  /**
   * SET key value EX ttl (null: DEL), only while this claim still owns the chat. The write is
   * kept in memory and lands with the item's acknowledgement (or its retry), in the same script,
   * atomically with it and fenced by the same token: state and "done" change together, so an
   * update re-run after a crash meets the state it met the first time, and an update costs no
   * round trip per write. False when the claim is already known to be lost (then nothing lands).
   */
  write(key: string, value: string | null, ttlSeconds: number): Promise<boolean>;
  /** A value this claim wrote and has not landed yet (null: deleted); undefined when none. */
  pending(key: string): string | null | undefined;
}

/**
 * The inbound item each object handed to the brain came from (the parsed update), so the brain's
 * middleware finds the item (its claim, the state read with it) from `ctx.update`. Not an
 * AsyncLocalStorage: on Node 20 an active one runs a hook on every promise the process makes,
 * about 6 % of a customer bot's CPU and a tenth of its allocations per update.
 */
const itemOfUpdate = new WeakMap<object, InboundItem>();

/** Ties `update` (what the consumer's handler hands to the brain) to its inbound item; returns `update`. */
export function tieInboundItem<T extends object>(update: T, item: InboundItem): T {
  itemOfUpdate.set(update, item);
  return update;
}

/** The inbound item `update` was tied to (tieInboundItem), if any. */
export function inboundItemOf(update: object): InboundItem | undefined {
  return itemOfUpdate.get(update);
}

export interface InboundQueueOptions {
  redis: Redis;
  /** e.g. "kabinet:bot:telegram:123:in:" */
  prefix: string;
  logger: Logger;
  /** Dedup window for platform ids (Telegram keeps undelivered updates for 24 h). */
  dedupTtlSeconds?: number;
  /** A claim not extended for this long is given to another consumer. */
  leaseMs?: number;
  maxAttempts?: number;
  /** Backoff after the n-th failure: min(maxBackoffMs, baseBackoffMs·2^(n-1)). */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** How often each consumer looks for expired claims and due retries (also a wake-up fallback). */
  sweepMs?: number;
}

export interface InboundConsumerOptions {
  /** Chats handled at once by this process. */
  concurrency?: number;
  /** Optional timing hook (bench): called after each handled item. */
  onHandled?(item: InboundItem, startedAt: number, finishedAt: number): void;
  /**
   * Key prefixes whose `prefix + chat` values are read with each claim (`item.values`): the
   * handler's first state reads cost no round trip of their own.
   */
  readPrefixes?: readonly string[];
}

export interface InboundQueue {
  /** Records one update of a chat; 'duplicate' when this id was recorded before. */
  enqueue(chat: string, id: string, payload: string): Promise<'queued' | 'duplicate'>;
  /** Starts consuming in this process. */
  consume(handler: (item: InboundItem) => Promise<void>, options?: InboundConsumerOptions): void;
  /** Stops taking chats and waits for the running items (their chats are released). */
  stop(): Promise<void>;
  /** Chats with items waiting or running, across all processes. */
  pendingChats(): Promise<number>;
  /** Ids given up after maxAttempts, newest last. */
  dead(): Promise<string[]>;
  /** Puts dead items back at the end of their chats' queues. */
  requeueDead(): Promise<number>;
}

const NOW = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

// Starts the head item of a claimed chat: counts the attempt, returns {id, payload, attempts,
// recorded at (µs), then the values of ARGV[from..] .. chat (the consumer's state keys, read
// with the claim; false when absent)}. Used by CLAIM and ACK (prefix in ARGV[1]); `chat` and
// `owner` already checked. READ_VALUES reads those keys in one MGET (ENQUEUE uses it alone).
const READ_VALUES = `
local function read_values(out, chat, from)
  if from > #ARGV then return out end
  local keys = {}
  for i = from, #ARGV do keys[#keys + 1] = ARGV[i] .. chat end
  local values = redis.call('MGET', unpack(keys))
  for i = 1, #keys do out[#out + 1] = values[i] end
  return out
end
`;
const BEGIN_HEAD = `
${READ_VALUES}
local function begin_head(prefix, chat, from)
  local id = redis.call('LINDEX', prefix .. 'q:' .. chat, 0)
  if not id then return nil end
  local a = redis.call('HINCRBY', prefix .. 'item:' .. id, 'a', 1)
  local v = redis.call('HMGET', prefix .. 'item:' .. id, 'p', 't')
  return read_values({id, v[1] or '', a, v[2] or ''}, chat, from)
end
`;

// The claim's buffered writes (InboundClaim.write), applied by ACK and RETRY_LATER after the
// owner check: ARGV[from] = how many, then key, value, ttl seconds for each (ttl '0': DEL).
// Returns the index of the first argument after them.
const APPLY_WRITES = `
local function apply_writes(from)
  local n = tonumber(ARGV[from])
  for i = 0, n - 1 do
    local key, value, ttl = ARGV[from + 1 + 3 * i], ARGV[from + 2 + 3 * i], ARGV[from + 3 + 3 * i]
    if ttl == '0' then redis.call('DEL', key) else redis.call('SET', key, value, 'EX', ttl) end
  end
  return from + 1 + 3 * n
end
`;

// Gives `chat` to a consumer: a new fencing token, the lease, the owner. `t` is Redis's TIME.
const TAKE = `
local function take(claims, owners, fence, t, chat, lease)
  -- Never below Redis's clock in µs: a restart that lost the last writes (appendfsync
  -- everysec with a stalled disk) rolls the counter back, and plain INCR would then hand a
  -- chat the token its stale holder still has, whose acknowledgement would be taken.
  local token = string.format('%.0f', math.max(redis.call('INCR', fence), tonumber(t[1]) * 1000000 + tonumber(t[2])))
  redis.call('SET', fence, token)
  redis.call('ZADD', claims, tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(lease), chat)
  redis.call('HSET', owners, chat, token)
  return token
end
`;

// KEYS: seen, item, q, sched, ready, claims, owners, fence; ARGV: id, payload, dedup ttl, chat,
// channel, this queue instance's id (the wake-up names its sender, so the recording process's
// own consumer, woken in memory, does not claim again for it), '1' when this process's consumer
// takes an idle chat at once, lease ms, prefix, key prefixes to read...
// Returns 0 duplicate, 1 queued behind the chat's earlier items (whoever holds or waits for the
// chat takes it: nobody to wake), 2 queued and the chat put in `ready` (consumers woken), or
// {token, recorded at, values...} when the chat was idle and is now claimed for this process's
// consumer (the caller has the rest of what CLAIM returns: chat, id, payload, attempt 1).
const ENQUEUE = `
${READ_VALUES}
${TAKE}
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[3]) == false then return 0 end
local t = redis.call('TIME')
local recorded = t[1] .. string.format('%06d', tonumber(t[2]))
redis.call('RPUSH', KEYS[3], ARGV[1])
local idle = redis.call('SADD', KEYS[4], ARGV[4]) == 1
-- An idle chat claimed for this process's consumer: this item is its head, begun here (its
-- first attempt) as CLAIM's begin_head would, without reading back what it just wrote.
local claimed = idle and ARGV[7] == '1'
redis.call('HSET', KEYS[2], 'p', ARGV[2], 'a', claimed and 1 or 0, 'c', ARGV[4], 't', recorded)
if claimed then
  local token = take(KEYS[6], KEYS[7], KEYS[8], t, ARGV[4], ARGV[8])
  return read_values({token, recorded}, ARGV[4], 10)
end
if idle then
  redis.call('RPUSH', KEYS[5], ARGV[4])
  redis.call('PUBLISH', ARGV[5], ARGV[6])
  return 2
end
return 1
`;

// Claims up to ARGV[3] waiting chats in one round trip. KEYS: ready, claims, owners, fence;
// ARGV: prefix, lease ms, how many, key prefixes to read... Returns {chat, token, id, payload,
// attempts, recorded at, values...} for each, flattened (fewer than asked: `ready` is empty now).
const CLAIM = `
${BEGIN_HEAD}
${TAKE}
local t = redis.call('TIME')
local out = {}
local want = tonumber(ARGV[3])
local size = 6 + #ARGV - 3
while #out < want * size do
  local chat = redis.call('LPOP', KEYS[1])
  if not chat then break end
  local head = begin_head(ARGV[1], chat, 4)
  if head then
    local token = take(KEYS[2], KEYS[3], KEYS[4], t, chat, ARGV[2])
    out[#out + 1] = chat
    out[#out + 1] = token
    for i = 1, #head do out[#out + 1] = head[i] end
  else
    -- An empty chat left in ready (should not happen): forget it.
    redis.call('SREM', ARGV[1] .. 'sched', chat)
  end
end
return out
`;

// Applies the claim's writes, acknowledges the head (handled, or given up: ARGV[5] = error)
// and begins the next one. KEYS: q, claims, owners, sched, item, dead, ready; ARGV: prefix,
// chat, token, id, dead error or '', lease, what to do with the chat's next item ('0' take it,
// '1' release the chat to the head of `ready` (stopping, lost), '2' take it unless other chats
// wait in `ready`, else yield: the chat goes to the tail of `ready` and consumers are woken),
// dead item ttl seconds, the writes (APPLY_WRITES), key prefixes to read...
// Returns {-1} fenced out (nothing written), {0} chat released, {1, id, payload, attempts,
// recorded at, values...} next item (its values read after the writes).
const ACK = `
${BEGIN_HEAD}
${APPLY_WRITES}
if redis.call('HGET', KEYS[3], ARGV[2]) ~= ARGV[3] then return {-1} end
local reads_from = apply_writes(9)
local head = redis.call('LPOP', KEYS[1])
if head == ARGV[4] then
  if ARGV[5] ~= '' then
    redis.call('HSET', KEYS[5], 'e', ARGV[5])
    redis.call('EXPIRE', KEYS[5], ARGV[8])
    redis.call('RPUSH', KEYS[6], ARGV[4])
  else
    redis.call('DEL', KEYS[5])
  end
elseif head then
  -- Not this item (acknowledged already, by a reply that got lost): left where it was.
  redis.call('LPUSH', KEYS[1], head)
end
local more = redis.call('LLEN', KEYS[1]) > 0
local yield = more and ARGV[7] == '2' and redis.call('LLEN', KEYS[7]) > 0
if ARGV[7] == '1' or not more or yield then
  redis.call('ZREM', KEYS[2], ARGV[2])
  redis.call('HDEL', KEYS[3], ARGV[2])
  if yield then
    redis.call('RPUSH', KEYS[7], ARGV[2])
    redis.call('PUBLISH', ARGV[1] .. 'wake', '*')
  elseif more then
    redis.call('LPUSH', KEYS[7], ARGV[2])
  else
    redis.call('SREM', KEYS[4], ARGV[2])
  end
  return {0}
end
local next_head = begin_head(ARGV[1], ARGV[2], reads_from)
${NOW}
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[6]), ARGV[2])
local out = {1}
for i = 1, #next_head do out[#out + 1] = next_head[i] end
return out
`;

// Keeps this consumer's claims alive, all in one call. KEYS: claims, owners; ARGV: lease ms,
// then chat, token for each. Returns 1 (kept) or 0 (lost: another consumer has it) per claim.
const EXTEND = `
${NOW}
local out = {}
for i = 2, #ARGV, 2 do
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[i + 1] then
    redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i])
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
`;

// Applies the claim's writes and gives the chat back to retry later. KEYS: claims, owners,
// delayed, item; ARGV: chat, token, delay ms, error, the writes (APPLY_WRITES).
const RETRY_LATER = `
${APPLY_WRITES}
${NOW}
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
apply_writes(5)
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), ARGV[1])
redis.call('HSET', KEYS[4], 'e', ARGV[4])
return 1
`;

// Expired claims and due retries → ready. KEYS: claims, owners, delayed, ready; ARGV: channel
const SWEEP = `
${NOW}
local moved = 0
for _, chat in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 100)) do
  redis.call('ZREM', KEYS[1], chat)
  redis.call('HDEL', KEYS[2], chat)
  redis.call('RPUSH', KEYS[4], chat)
  moved = moved + 1
end
for _, chat in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 100)) do
  redis.call('ZREM', KEYS[3], chat)
  redis.call('RPUSH', KEYS[4], chat)
  moved = moved + 1
end
if moved > 0 then redis.call('PUBLISH', ARGV[1], '*') end
return moved
`;

// Dead items back to their chats. KEYS: dead, sched, ready; ARGV: prefix, channel
const REQUEUE_DEAD = `
local n = 0
while true do
  local id = redis.call('LPOP', KEYS[1])
  if not id then break end
  local item = ARGV[1] .. 'item:' .. id
  local chat = redis.call('HGET', item, 'c')
  if chat then
    redis.call('HSET', item, 'a', 0)
    redis.call('RPUSH', ARGV[1] .. 'q:' .. chat, id)
    if redis.call('SADD', KEYS[2], chat) == 1 then redis.call('RPUSH', KEYS[3], chat) end
    n = n + 1
  end
end
if n > 0 then redis.call('PUBLISH', ARGV[2], '*') end
return n
`;

/** A claim a consumer holds, as its heartbeat sees it. */
interface Held {
  readonly chat: string;
  readonly token: string;
  /** When Redis last confirmed the lease (local clock, ms). */
  renewedAt: number;
  lose(): void;
}

const lostError = (chat: string) => new Error(`inbound: the claim on chat ${chat} was lost`);

/** Redis TIME in µs ("<seconds><6 digits>") → ms since the epoch. */
const recordedAtMs = (us: string | undefined) => (us ? Number(us) / 1000 : NaN);

/** Dead items (they hold personal data) are kept this long for inspection and requeueDead. */
const DEAD_TTL_SECONDS = 7 * 86_400;

export function createInboundQueue(options: InboundQueueOptions): InboundQueue {
  const { redis, prefix, logger } = options;
  const dedupTtl = options.dedupTtlSeconds ?? 86_400;
  const leaseMs = options.leaseMs ?? 15_000;
  const maxAttempts = options.maxAttempts ?? 10;
  const baseBackoff = options.baseBackoffMs ?? 1_000;
  const maxBackoff = options.maxBackoffMs ?? 60_000;
  const sweepMs = options.sweepMs ?? 1_000;
  const k = {
    seen: (id: string) => `${prefix}seen:${id}`,
    item: (id: string) => `${prefix}item:${id}`,
    q: (chat: string) => `${prefix}q:${chat}`,
    sched: `${prefix}sched`,
    ready: `${prefix}ready`,
    claims: `${prefix}claims`,
    owners: `${prefix}owners`,
    fence: `${prefix}fence`,
    delayed: `${prefix}delayed`,
    dead: `${prefix}dead`,
    channel: `${prefix}wake`,
  };
  const run = {
    enqueue: scriptRunner(redis, ENQUEUE),
    claim: scriptRunner(redis, CLAIM),
    ack: scriptRunner(redis, ACK),
    extend: scriptRunner(redis, EXTEND),
    retryLater: scriptRunner(redis, RETRY_LATER),
    sweep: scriptRunner(redis, SWEEP),
    requeueDead: scriptRunner(redis, REQUEUE_DEAD),
  };
  // Wakes this process's consumer when this process records (no pub/sub round trip needed).
  const local = new EventEmitter();
  const instance = `${process.pid}:${randomUUID()}`;

  let consumer: { stop(): Promise<void> } | undefined;
  /**
   * This process's consumer, when it runs and has room: a record whose chat is idle is claimed
   * for it in the same script (one round trip instead of record + wake-up + claim).
   */
  let direct: { reads: string[]; reserve(): boolean; release(): void; start(claimed: unknown[]): void } | undefined;

  function consume(handler: (item: InboundItem) => Promise<void>, consumerOptions: InboundConsumerOptions = {}): void {
    if (consumer) throw new Error('this inbound queue is already consuming');
    const concurrency = consumerOptions.concurrency ?? 128;
    const reads = [...(consumerOptions.readPrefixes ?? [])];
    // Lua has no null in arrays: absent keys come back as null.
    const valuesOf = (raw: unknown[]) => reads.map((_, i) => (raw[i] as string | null | undefined) ?? null);
    let running = 0;
    // Places promised to records in flight (ENQUEUE may claim their chats for this consumer):
    // counted with `running` so that concurrent records cannot take more chats than the cap.
    let reserved = 0;
    /** Places left for new chats. */
    const room = () => concurrency - running - reserved;
    let stopping = false;
    let filling = false;
    let again = false;
    // Set when claiming stopped at the concurrency cap: chats may be waiting in `ready`, so a
    // finished chat claims again. Otherwise a finished chat does not ask (a claim that would
    // find nothing costs a Redis call per update); wake-ups and the sweep bring new chats.
    let capped = false;
    const chats = new Set<Promise<void>>();
    /** The claims this consumer holds now, kept alive by one heartbeat for them all. */
    const held = new Set<Held>();
    const beatMs = Math.max(50, Math.floor(leaseMs / 3));
    const heartbeat = setInterval(() => {
      if (held.size === 0) return;
      const now = Date.now();
      const batch: Held[] = [];
      for (const h of held) {
        // Not renewed in time (Redis unreachable, the event loop stalled): the lease runs out
        // before the next beat, after which the sweep may give the chat to another consumer.
        // The beat is shared by all claims, not timed from each one's start, so a claim is
        // given up one beat before its lease ends rather than up to one beat after it.
        if (now + beatMs - h.renewedAt >= leaseMs) h.lose();
        else batch.push(h);
      }
      if (batch.length === 0) return;
      // A kept claim counts as renewed from when the call was sent (Redis moved its lease later).
      run.extend([k.claims, k.owners], [leaseMs, ...batch.flatMap((h) => [h.chat, h.token])]).then(
        (kept) => batch.forEach((h, i) => ((kept as number[])[i] === 1 ? (h.renewedAt = Math.max(h.renewedAt, now)) : h.lose())),
        (err: unknown) => logger.warn({ err, chats: batch.length }, 'inbound: could not extend the claims'),
      );
    }, beatMs);
    heartbeat.unref();
    const subscriber = redis.duplicate();
    subscriber.on('error', (err) => logger.warn({ err }, 'inbound: subscriber connection error'));
    subscriber.subscribe(k.channel).catch((err: unknown) => logger.warn({ err }, 'inbound: subscribe failed; polling only'));
    // Wake-ups this instance published itself were handled in memory already (local 'queued').
    subscriber.on('message', (_channel: string, from: string) => {
      if (from !== instance) void fill();
    });
    const wake = () => void fill();
    local.on('queued', wake);
    const size = 6 + reads.length;
    /** Starts a chat claimed by CLAIM or by ENQUEUE (flattened: chat, token, id, payload, attempts, recorded, values...). */
    const start = (claimed: unknown[]) => {
      const [chat, token, id, payload, attempt, recorded] = claimed.slice(0, 6) as [string, string, string, string, number, string];
      running += 1;
      const first: InboundItem = { chat, id, payload, attempt: Number(attempt), recordedAt: recordedAtMs(recorded), values: valuesOf(claimed.slice(6, size)) };
      const p = runChat(chat, token, first).finally(() => {
        running -= 1;
        chats.delete(p);
        refill();
      });
      chats.add(p);
    };
    direct = {
      reads,
      reserve() {
        if (stopping || room() <= 0) return false;
        reserved += 1;
        return true;
      },
      release() {
        reserved -= 1;
        // A place reserved and not taken (the chat was not idle) is free again for a waiting chat.
        refill();
      },
      start,
    };

    /** A place came free: if claiming had stopped at the cap, chats may wait in `ready`. */
    function refill(): void {
      if (capped && !stopping) {
        capped = false;
        void fill();
      }
    }

    async function fill(): Promise<void> {
      if (filling) {
        again = true;
        return;
      }
      filling = true;
      try {
        do {
          again = false;
          while (!stopping) {
            const want = room();
            if (want <= 0) {
              capped = true;
              break;
            }
            const claimed = ((await run.claim([k.ready, k.claims, k.owners, k.fence], [prefix, leaseMs, want, ...reads])) ?? []) as unknown[];
            for (let i = 0; i + size <= claimed.length; i += size) start(claimed.slice(i, i + size));
            // Fewer than asked: nothing else is waiting now (a later record wakes this again).
            if (claimed.length < want * size) break;
          }
        } while (again && !stopping);
      } catch (err) {
        logger.warn({ err }, 'inbound: claiming failed; the sweep retries');
      } finally {
        filling = false;
      }
    }

    async function runChat(chat: string, token: string, first: InboundItem): Promise<void> {
      let item: InboundItem | undefined = first;
      // Made when first asked for (nothing on the usual path reads it): one less object per update.
      let controller: AbortController | undefined;
      let lost = false;
      const lose = () => {
        if (lost) return;
        lost = true;
        controller?.abort(lostError(chat));
      };
      const hold: Held = { chat, token, renewedAt: Date.now(), lose };
      held.add(hold);
      // The claim's writes not landed yet, by key (the last one wins), in the order first written.
      const writes = new Map<string, { value: string | null; ttl: number }>();
      /** The writes as APPLY_WRITES arguments; taken once (the map is emptied). */
      const takeWrites = (): (string | number)[] => {
        const args: (string | number)[] = [writes.size];
        for (const [key, { value, ttl }] of writes) args.push(key, value ?? '', value === null ? 0 : ttl);
        writes.clear();
        return args;
      };
      const claim: InboundClaim = {
        chat,
        token,
        get lost() {
          return lost;
        },
        get signal() {
          if (!controller) {
            controller = new AbortController();
            if (lost) controller.abort(lostError(chat));
          }
          return controller.signal;
        },
        async write(key, value, ttlSeconds) {
          if (lost) return false;
          writes.delete(key); // a later write of a key lands in the order it was made
          writes.set(key, { value, ttl: Math.max(1, Math.ceil(ttlSeconds)) });
          return true;
        },
        pending(key) {
          return writes.get(key)?.value;
        },
      };
      try {
        while (item) {
          item.claim = claim;
          let deadError = '';
          if (item.attempt > maxAttempts) {
            deadError = 'gave up: the handler did not finish in earlier attempts (its process may have died)';
          } else {
            const startedAt = performance.now();
            try {
              await handler(item);
              consumerOptions.onHandled?.(item, startedAt, performance.now());
            } catch (err) {
              const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
              if (item.attempt >= maxAttempts) {
                deadError = message.slice(0, 1000);
              } else {
                const delay = Math.min(maxBackoff, baseBackoff * 2 ** (item.attempt - 1));
                logger.warn({ err, chat, id: item.id, attempt: item.attempt, retryInMs: delay }, 'inbound: update failed; retrying later');
                await run.retryLater([k.claims, k.owners, k.delayed, k.item(item.id)], [chat, token, delay, message.slice(0, 1000), ...takeWrites()]);
                return;
              }
            }
          }
          if (deadError) logger.error({ chat, id: item.id, attempts: item.attempt, error: deadError }, 'inbound: update given up (kept in the dead list)');
          // Stopping: acknowledge what was handled and hand the rest of the chat on. At the
          // concurrency cap, a chat whose next update is already there yields its place when
          // other chats wait in `ready`: a chat with a steady stream of updates would otherwise
          // keep the place while the waiting chats get none (round robin, not first come).
          const nextMode = stopping || lost ? '1' : room() <= 0 ? '2' : '0';
          const ackSentAt = Date.now();
          const next = (await run.ack(
            [k.q(chat), k.claims, k.owners, k.sched, k.item(item.id), k.dead, k.ready],
            [prefix, chat, token, item.id, deadError, leaseMs, nextMode, DEAD_TTL_SECONDS, ...takeWrites(), ...reads],
          )) as [number, string?, string?, number?, string?, ...unknown[]];
          if (next[0] === -1) {
            logger.warn({ chat, id: item.id }, 'inbound: claim lost while handling; another consumer has the chat');
            return;
          }
          // Taking the next item renewed the lease (ACK's ZADD, some time after it was sent).
          if (next[0] === 1) hold.renewedAt = Math.max(hold.renewedAt, ackSentAt);
          item = next[0] === 1 ? { chat, id: next[1]!, payload: next[2]!, attempt: Number(next[3]), recordedAt: recordedAtMs(next[4]), values: valuesOf(next.slice(5)) } : undefined;
        }
      } catch (err) {
        // Redis is unreachable: the claim expires and the sweep hands the chat on.
        logger.error({ err, chat }, 'inbound: queue bookkeeping failed; the chat is retried after its lease');
      } finally {
        held.delete(hold);
      }
    }

    const sweeper = setInterval(() => {
      run.sweep([k.claims, k.owners, k.delayed, k.ready], [k.channel]).then(
        () => fill(),
        (err: unknown) => logger.warn({ err }, 'inbound: sweep failed'),
      );
    }, sweepMs);
    sweeper.unref();
    void fill();

    consumer = {
      async stop() {
        stopping = true;
        direct = undefined;
        clearInterval(sweeper);
        clearInterval(heartbeat);
        local.off('queued', wake);
        await Promise.allSettled([...chats]);
        await subscriber.quit().catch(() => subscriber.disconnect());
      },
    };
  }

  return {
    async enqueue(chat, id, payload) {
      // A place at this process's consumer is reserved while the record is in flight, so that
      // records arriving together never take more chats than its concurrency.
      const taker = direct?.reserve() ? direct : undefined;
      let added: number | unknown[];
      try {
        added = (await run.enqueue(
          [k.seen(id), k.item(id), k.q(chat), k.sched, k.ready, k.claims, k.owners, k.fence],
          [id, payload, dedupTtl, chat, k.channel, instance, taker ? '1' : '0', leaseMs, prefix, ...(taker?.reads ?? [])],
        )) as number | unknown[];
      } catch (err) {
        taker?.release();
        throw err;
      }
      if (Array.isArray(added)) {
        // Claimed for this process's consumer in its reserved place (it may have begun stopping
        // since: it runs the chat all the same; a stopping process that dies leaves it to the
        // lease). The script returns what only Redis knows (the token, when it was recorded, the
        // state). Started before the place is given back, so the count never dips below the truth.
        taker!.start([chat, added[0], id, payload, 1, ...added.slice(1)]);
        taker!.release();
        return 'queued';
      }
      taker?.release();
      if (added === 0) return 'duplicate';
      if (added === 2) local.emit('queued');
      return 'queued';
    },
    consume,
    async stop() {
      await consumer?.stop();
      consumer = undefined;
    },
    async pendingChats() {
      return redis.scard(k.sched);
    },
    async dead() {
      return redis.lrange(k.dead, 0, -1);
    },
    async requeueDead() {
      return Number(await run.requeueDead([k.dead, k.sched, k.ready], [prefix, k.channel]));
    },
  };
}
