/**
 * Per-chat pacing for a platform's sends, shared by every process through Redis: Telegram
 * allows about one message per second to one chat, and a 429 for one chat says nothing about
 * the others. The send workers (notifications, broadcasts) ask `reserve(chat)` before a send
 * and get the chat's next free slot (now, or n intervals ahead); a message whose slot is
 * ahead has its job moved to "delayed" until then — it keeps that slot, so it runs once at
 * its time instead of waking with every other waiting message of that chat. One busy chat
 * neither holds a worker nor pauses the queue nor spends the bot-wide limiter's turns. The
 * bot-wide cap stays with the queue's global limiter.
 *
 * Times come from Redis (`TIME` inside the scripts), so processes with skewed clocks agree.
 */
import type { Redis } from 'ioredis';

export interface ChatPacerSettings {
  redis: Redis;
  /** Key prefix, e.g. `<redisKeyPrefix>pace:telegram:<bot id>:`. */
  prefix: string;
  /** Minimum gap between two sends to one chat. Default 1000 ms (Telegram's ~1 msg/s). */
  intervalMs?: number;
  /**
   * How many different chats refused with 429 within `globalSignalWindowMs` mean that the
   * refusal is the bot-wide cap, not one chat's (then the caller pauses the whole queue).
   * Default 3 chats in 1000 ms.
   */
  globalSignalChats?: number;
  globalSignalWindowMs?: number;
}

export interface ChatPacer {
  /**
   * Reserves the chat's next free slot and returns how far ahead it is: 0 means send now;
   * otherwise the caller holds a slot `ms` from now and must not reserve again for that message.
   */
  reserve(chat: string): Promise<number>;
  /** After a 429 for this chat: no slot until `ms` from now (never shortens a longer hold). */
  hold(chat: string, ms: number): Promise<void>;
  /**
   * Records a 429 for `chat` and says whether enough different chats were refused just now
   * to treat it as the bot-wide limit rather than this chat's.
   */
  noteRateLimited(chat: string): Promise<boolean>;
}

const NOW_MS = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

// KEYS[1] chat key (the chat's next free slot); ARGV[1] interval ms. Returns ms until the reserved slot.
const RESERVE = `${NOW_MS}
local interval = tonumber(ARGV[1])
local at = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[1], at + interval, 'PX', at + interval - now)
return at - now`;

// KEYS[1] chat key; ARGV[1] hold ms.
const HOLD = `${NOW_MS}
local due = tonumber(redis.call('GET', KEYS[1]) or '0')
local until_ = now + tonumber(ARGV[1])
if until_ > due then redis.call('SET', KEYS[1], until_, 'PX', tonumber(ARGV[1])) end
return 0`;

// KEYS[1] zset of chats refused recently; ARGV[1] chat, ARGV[2] window ms. Returns distinct chats in the window.
const NOTE = `${NOW_MS}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return redis.call('ZCARD', KEYS[1])`;

export function createChatPacer(settings: ChatPacerSettings): ChatPacer {
  const { redis, prefix } = settings;
  const intervalMs = settings.intervalMs ?? 1000;
  const signalChats = settings.globalSignalChats ?? 3;
  const signalWindowMs = settings.globalSignalWindowMs ?? 1000;
  const chatKey = (chat: string) => `${prefix}chat:${chat}`;
  return {
    async reserve(chat) {
      return Number(await redis.eval(RESERVE, 1, chatKey(chat), intervalMs));
    },
    async hold(chat, ms) {
      await redis.eval(HOLD, 1, chatKey(chat), Math.max(1, Math.ceil(ms)));
    },
    async noteRateLimited(chat) {
      return Number(await redis.eval(NOTE, 1, `${prefix}refused`, chat, signalWindowMs)) >= signalChats;
    },
  };
}
