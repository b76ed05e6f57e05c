/**
 * A fair per-chat lock in Redis, so updates of one chat are handled one at a time and in
 * arrival order even when several instances receive them.
 *
 * Each waiter appends a random token to the chat's queue (a Redis list) and keeps a
 * heartbeat key alive while it waits and works. The head of the queue holds the lock. A
 * head whose heartbeat expired (its process died) is dropped by whoever checks next, so a
 * crash costs at most one lease. Release removes the head only if it is still ours
 * (compare-and-pop in Lua). Waiters in the same process are woken the moment the lock is
 * released here (the usual case: Telegram sends one chat's updates to one instance); a
 * waiter behind another instance polls with a capped backoff, which needs no extra Redis
 * connection per waiter.
 *
 * Fencing: the holder's token (the queue's head) is its fencing token. The heartbeat only
 * extends a live lease (PEXPIRE, never re-creates it); when it finds the lease gone, or cannot
 * renew it for a whole lease (Redis unreachable, the event loop stalled), the lease is lost.
 * State writes made through `write` (the session and flow storages) run a script that checks,
 * atomically with the write, that the token is still the head and its lease alive: a handler
 * that lost its lease can no longer write (LeaseLostError), so its update fails, is not marked
 * done, and is handled again; the holder that took over keeps its state.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Redis } from '../../infra/redis.js';
import { scriptRunner } from '../../infra/redis-script.js';

export interface ChatLockOptions {
  redis: Redis;
  /** e.g. "kabinet:lock:telegram:<botId>:" */
  prefix: string;
  /** Heartbeat lease; renewed every leaseMs/3 while waiting and while working. */
  leaseMs?: number;
  /** Give up waiting after this long (the update then fails and the platform retries it). */
  maxWaitMs?: number;
  /** Backoff bounds while waiting. */
  minPollMs?: number;
  maxPollMs?: number;
  /**
   * The chat a state key belongs to (the customer bot's session, flow and identity keys end in
   * it). With it, a hold adopted for a chat (`adopt`) is found by the chat of the key read or
   * written, not through an AsyncLocalStorage: on Node 20 an active one runs a hook on every
   * promise the process makes, and the queue's path runs every update of a webhook bot. A
   * process runs one update of a chat at a time under an adopted hold (the queue's claim), so
   * the chat names the hold. Without it, adopted holds live in this lock's AsyncLocalStorage.
   */
  chatOfKey?: (key: string) => string | undefined;
}

export class ChatLockTimeoutError extends Error {
  override name = 'ChatLockTimeoutError';
}

/** A write by a handler whose chat lease was lost (another handler may hold the chat now). */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

/** The lease of one running handler. */
export interface Lease {
  readonly chatKey: string;
  /** The fencing token: the queue head it must still be for its writes to land. */
  readonly token: string;
  /** Known locally to be lost (heartbeat found it gone or could not renew it in time). */
  readonly lost: boolean;
  /** Aborted when the lease is known to be lost. */
  readonly signal: AbortSignal;
}

// One round trip per attempt: (re-)enqueue when asked, drop dead heads, and, once we are the
// head, check the update's done-mark and read the state keys the holder needs first.
// KEYS[1] queue, KEYS[2] our heartbeat, KEYS[3] done-mark or '', KEYS[4..] keys to read.
// ARGV[1] token, ARGV[2] heartbeat key prefix, ARGV[3] lease ms, ARGV[4] queue ttl ms,
// ARGV[5] '1' to enqueue first.
// Returns {1, values...} when we hold the lock, {2} when the update is already done (we left
// the queue), {0} when someone alive is ahead, {-1} when our token is gone.
// Our heartbeat is (re)set on every attempt: a waiter is alive while it runs this script; once
// holding, only PEXPIRE extends it, so a lost lease is never revived.
const ACQUIRE = `
redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
if ARGV[5] == '1' then
  redis.call('RPUSH', KEYS[1], ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
local head = redis.call('LINDEX', KEYS[1], 0)
while head and head ~= ARGV[1] and redis.call('EXISTS', ARGV[2] .. head) == 0 do
  redis.call('LPOP', KEYS[1])
  head = redis.call('LINDEX', KEYS[1], 0)
end
if head == ARGV[1] then
  if KEYS[3] ~= '' and redis.call('EXISTS', KEYS[3]) == 1 then
    redis.call('LPOP', KEYS[1])
    redis.call('DEL', KEYS[2])
    return {2}
  end
  local out = {1}
  for i = 4, #KEYS do out[i - 2] = redis.call('GET', KEYS[i]) end
  return out
end
if redis.call('LPOS', KEYS[1], ARGV[1]) == false then return {-1} end
return {0}
`;

// KEYS[1] queue, KEYS[2] our heartbeat, KEYS[3] done-mark or ''; ARGV[1] token, ARGV[2] mark
// ttl seconds. The mark (when given) and the release are one step: a crash leaves neither. A
// holder that lost its lease marks nothing.
const RELEASE = `
if KEYS[3] ~= '' and redis.call('LINDEX', KEYS[1], 0) == ARGV[1] and redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('SET', KEYS[3], '1', 'EX', ARGV[2])
end
redis.call('DEL', KEYS[2])
if redis.call('LINDEX', KEYS[1], 0) == ARGV[1] then
  redis.call('LPOP', KEYS[1])
  return 1
end
redis.call('LREM', KEYS[1], 1, ARGV[1])
return 0
`;

// A fenced write. KEYS[1] queue, KEYS[2] holder's heartbeat, KEYS[3] target; ARGV[1] token,
// ARGV[2] value ('' with ARGV[4] 'del' deletes), ARGV[3] ttl seconds, ARGV[4] 'set' | 'del'.
// 1 written, 0 refused (the token is not the live holder any more).
const FENCED_WRITE = `
if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[1] or redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
if ARGV[4] == 'del' then redis.call('DEL', KEYS[3]) else redis.call('SET', KEYS[3], ARGV[2], 'EX', ARGV[3]) end
return 1
`;

/** Handling one update under the chat lock, at most once to completion. */
export interface UpdateRunOptions {
  /** Marked (with the release) after fn succeeds; when already marked, fn is not run. */
  doneKey: string;
  doneTtlSeconds: number;
  /** Keys read (GET) atomically when the lock is acquired; their values are passed to fn. */
  readKeys?: readonly string[];
}

export type UpdateRunResult<T> = { duplicate: true } | { duplicate: false; value: T };

/**
 * A hold on a chat taken elsewhere (the inbound queue's claim: one consumer per chat across
 * every process, fenced by its own token), adopted instead of this lock's queue.
 */
export interface ExternalHold {
  readonly token: string;
  readonly lost: boolean;
  readonly signal: AbortSignal;
  /** The fenced write of the holder: false when refused (the hold was lost). */
  write(key: string, value: string | null, ttlSeconds: number): Promise<boolean>;
  /**
   * A write of the holder's that has not reached Redis yet (the inbound queue lands them with
   * its acknowledgement): its value (null: deleted), undefined when none.
   */
  pending?(key: string): string | null | undefined;
}

export interface ChatLock {
  /** Runs fn while holding the chat's lock. */
  run<T>(chatKey: string, fn: () => Promise<T>): Promise<T>;
  /**
   * Runs fn for one update while holding the chat's lock, unless the update was already
   * handled to completion (its done-mark is checked when the lock is acquired and set with
   * the release, only if fn succeeded). Lock, dedup and the first state reads cost one Redis
   * round trip in the usual case, mark and release another.
   */
  runUpdate<T>(chatKey: string, options: UpdateRunOptions, fn: (values: (string | null)[], lease: Lease) => Promise<T>): Promise<UpdateRunResult<T>>;
  /**
   * Writes a state key (SET with a TTL; null deletes). Inside `run`/`runUpdate` the write is
   * fenced: it lands only while this handler still holds its chat, else LeaseLostError.
   * Outside a locked handler it is a plain write.
   */
  write(key: string, value: string | null, ttlSeconds: number): Promise<void>;
  /**
   * Reads a state key as this handler sees it: its own write not landed yet (an adopted hold
   * lands its writes later), else Redis.
   */
  read(key: string): Promise<string | null>;
  /**
   * Runs fn under a hold on the chat that the caller already has (the inbound queue's claim)
   * instead of taking this lock: `write` then goes through the hold's fenced write. No Redis
   * round trip of its own; the caller reads the state keys and marks the update done (the
   * queue's acknowledgement). Only for holds that exclude this lock's other users: in webhook
   * mode every update of the bot comes through the queue.
   */
  adopt<T>(chatKey: string, hold: ExternalHold, fn: (lease: Lease) => Promise<T>): Promise<T>;
  /**
   * The lease of the handler running in this async context (`run`, `runUpdate`), else the hold
   * adopted for `chatKey` (with `chatOfKey`), if any.
   */
  currentLease(chatKey?: string): Lease | undefined;
  /** How many are queued for the chat (holder included); for tests and metrics. */
  queueLength(chatKey: string): Promise<number>;
}

export function createChatLock(options: ChatLockOptions): ChatLock {
  const { redis, prefix } = options;
  const leaseMs = options.leaseMs ?? 15_000;
  const maxWaitMs = options.maxWaitMs ?? 60_000;
  const minPoll = options.minPollMs ?? 5;
  const maxPoll = options.maxPollMs ?? 100;
  const queueKey = (chat: string) => `${prefix}q:${chat}`;
  const aliveKey = (token: string) => `${prefix}alive:${token}`;
  // Queues outlive no chat forever: refreshed on every use.
  const queueTtlMs = Math.max(leaseMs * 20, 600_000);
  const acquireScript = scriptRunner(redis, ACQUIRE);
  const releaseScript = scriptRunner(redis, RELEASE);
  const fencedWriteScript = scriptRunner(redis, FENCED_WRITE);
  const leases = new AsyncLocalStorage<LeaseState | AdoptedLease>();
  const chatOfKey = options.chatOfKey;
  /** Holds adopted by chat (with `chatOfKey`), one per chat while its update runs. */
  const adoptedByChat = new Map<string, AdoptedLease>();
  /** This lock's lease in this async context, else the hold adopted for the chat. */
  const currentLease = (chatKey?: string): LeaseState | AdoptedLease | undefined => {
    const own = leases.getStore();
    if (own || chatKey === undefined) return own;
    return adoptedByChat.get(chatKey);
  };
  const leaseOfKey = (key: string) => currentLease(chatOfKey?.(key));
  interface LeaseState extends Lease {
    lost: boolean;
    queue: string;
    alive: string;
    controller: AbortController;
  }
  /** A hold taken elsewhere (adopt): its writes go through the hold's own fencing. */
  interface AdoptedLease extends Lease {
    hold: ExternalHold;
  }
  const lose = (lease: LeaseState, reason: string) => {
    if (lease.lost) return;
    lease.lost = true;
    lease.controller.abort(new LeaseLostError(reason));
  };
  const released = new EventEmitter();
  released.setMaxListeners(0);
  /** Sleeps up to `ms`, or less if this process releases the chat meanwhile. */
  const waitForRelease = (chatKey: string, ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        released.off(chatKey, wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      released.once(chatKey, wake);
    });

  async function runUpdate<T>(chatKey: string, update: UpdateRunOptions | undefined, fn: (values: (string | null)[], lease: Lease) => Promise<T>): Promise<UpdateRunResult<T>> {
    const token = randomUUID();
    const queue = queueKey(chatKey);
    const alive = aliveKey(token);
    const doneKey = update?.doneKey ?? '';
    const keys = [queue, alive, doneKey, ...(update?.readKeys ?? [])];
    const controller = new AbortController();
    const lease: LeaseState = { chatKey, token, lost: false, signal: controller.signal, queue, alive, controller };
    let renewedAt = Date.now();
    const heartbeat = setInterval(() => {
      // Not renewed for a whole lease (Redis unreachable, the event loop stalled): another
      // handler may have the chat already.
      if (holding && Date.now() - renewedAt >= leaseMs) lose(lease, 'lease not renewed in time');
      redis.pexpire(alive, leaseMs).then(
        (extended) => {
          if (extended === 1) renewedAt = Date.now();
          else if (holding) lose(lease, 'lease expired');
        },
        () => undefined,
      );
    }, Math.max(50, Math.floor(leaseMs / 3)));
    heartbeat.unref();
    let queued = true;
    let holding = false;
    let succeeded = false;
    try {
      const started = Date.now();
      let delay = minPoll;
      let enqueue = true;
      let values: (string | null)[] = [];
      for (;;) {
        const reply = (await acquireScript(keys, [token, `${prefix}alive:`, leaseMs, queueTtlMs, enqueue ? '1' : '0'])) as [number, ...(string | null)[]];
        enqueue = false;
        const [state, ...rest] = reply;
        if (state === 1) {
          values = rest;
          break;
        }
        if (state === 2) {
          queued = false; // the script took us off the queue
          return { duplicate: true };
        }
        if (state === -1) {
          // Our heartbeat lapsed (a long event-loop stall) and we were dropped: queue again.
          enqueue = true;
          continue;
        }
        if (Date.now() - started > maxWaitMs) throw new ChatLockTimeoutError(`Timed out waiting for chat ${chatKey}`);
        await waitForRelease(chatKey, delay);
        delay = Math.min(maxPoll, delay * 2);
      }
      holding = true;
      renewedAt = Date.now();
      // Lua has no null in arrays: missing keys come back as null, trailing ones not at all.
      const read = (update?.readKeys ?? []).map((_, i) => values[i] ?? null);
      const value = await leases.run(lease, () => fn(read, lease));
      succeeded = true;
      return { duplicate: false, value };
    } finally {
      clearInterval(heartbeat);
      // A waiter that timed out or failed still leaves the queue (and marks nothing).
      if (queued) await releaseScript([queue, alive, holding && succeeded ? doneKey : ''], [token, update?.doneTtlSeconds ?? 0]).catch(() => undefined);
      released.emit(chatKey);
    }
  }

  return {
    async run(chatKey, fn) {
      const result = await runUpdate(chatKey, undefined, () => fn());
      if (result.duplicate) throw new Error('unreachable: no done-mark given');
      return result.value;
    },
    runUpdate,
    adopt(chatKey, hold, fn) {
      const lease: AdoptedLease = {
        chatKey,
        token: hold.token,
        // Lost is the hold's to know (its write was refused, or its heartbeat failed).
        get lost() {
          return hold.lost;
        },
        get signal() {
          return hold.signal;
        },
        hold,
      };
      // Kept by chat when keys name their chat (chatOfKey): everything the handler reads or
      // writes for this chat meets it, as it would in `leases.run`, and this lock's own
      // AsyncLocalStorage is never switched on in the queue's path. A lease taken by
      // `run`/`runUpdate` inside still wins (currentLease looks there first).
      if (chatOfKey && !adoptedByChat.has(chatKey)) {
        adoptedByChat.set(chatKey, lease);
        return fn(lease).finally(() => {
          if (adoptedByChat.get(chatKey) === lease) adoptedByChat.delete(chatKey);
        });
      }
      return leases.run(lease, () => fn(lease));
    },
    currentLease,
    async read(key) {
      const lease = leaseOfKey(key);
      const pending = lease && 'hold' in lease ? lease.hold.pending?.(key) : undefined;
      return pending !== undefined ? pending : redis.get(key);
    },
    async write(key, value, ttlSeconds) {
      const lease = leaseOfKey(key);
      if (!lease) {
        if (value === null) await redis.del(key);
        else await redis.set(key, value, 'EX', ttlSeconds);
        return;
      }
      if (lease.lost) throw new LeaseLostError(`chat ${lease.chatKey}: lease lost; write refused`);
      if ('hold' in lease) {
        if (!(await lease.hold.write(key, value, ttlSeconds))) throw new LeaseLostError(`chat ${lease.chatKey}: another consumer holds the chat; write refused`);
        return;
      }
      const written = await fencedWriteScript([lease.queue, lease.alive, key], [lease.token, value ?? '', ttlSeconds, value === null ? 'del' : 'set']);
      if (written !== 1) {
        lose(lease, 'fenced write refused');
        throw new LeaseLostError(`chat ${lease.chatKey}: another handler holds the chat; write refused`);
      }
    },
    async queueLength(chatKey) {
      return redis.llen(queueKey(chatKey));
    },
  };
}
