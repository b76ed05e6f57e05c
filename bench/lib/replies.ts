/**
 * Watches the fake Telegram for a bot's replies, per chat, and drives chats in a closed
 * loop: a person sends, waits for the bot's answer, sends the next. Latency is taken from
 * the moment the fake queues the update (its webhook POST leaves in the same tick) to the
 * moment the fake has answered the bot's reply call.
 */
import { performance } from 'node:perf_hooks';
import type { FakeTelegram } from '../../src/fakes/telegram/index.js';

export interface Reply {
  /** performance.now() when the fake answered the call. */
  at: number;
  method: string;
  status: number;
  messageId: number | undefined;
}

export interface ReplyWatcher {
  /** The next call of the watched methods to this chat. */
  next(chatId: number, timeoutMs?: number): Promise<Reply>;
  /** Replies the fake refused (non-2xx), by "method status". */
  readonly refused: Map<string, number>;
  close(): void;
}

export function watchReplies(fake: FakeTelegram, token: string, methods: string[]): ReplyWatcher {
  const watched = new Set(methods);
  const waiting = new Map<string, Array<(reply: Reply) => void>>();
  const refused = new Map<string, number>();
  const off = fake.onCall((call) => {
    if (call.token !== token || !watched.has(call.method)) return;
    const at = performance.now();
    if (call.status !== 200) refused.set(`${call.method} ${call.status}`, (refused.get(`${call.method} ${call.status}`) ?? 0) + 1);
    const resolve = waiting.get(String(call.params.chat_id))?.shift();
    const result = call.response.result as { message_id?: number } | undefined;
    resolve?.({ at, method: call.method, status: call.status, messageId: result?.message_id });
  });
  return {
    refused,
    next(chatId, timeoutMs = 20_000) {
      return new Promise<Reply>((resolve, reject) => {
        const key = String(chatId);
        const queue = waiting.get(key) ?? [];
        waiting.set(key, queue);
        const timer = setTimeout(() => {
          const i = queue.indexOf(done);
          if (i >= 0) queue.splice(i, 1);
          reject(new Error(`no ${methods.join('/')} to chat ${chatId} within ${timeoutMs} ms`));
        }, timeoutMs);
        const done = (reply: Reply) => {
          clearTimeout(timer);
          resolve(reply);
        };
        queue.push(done);
      });
    },
    close: off,
  };
}

export interface LoopResult {
  /** Per update, ms, with the round it belongs to. */
  samples: Array<{ step: number; ms: number }>;
  wallMs: number;
  updates: number;
}

/**
 * Every chat runs `steps` rounds concurrently with the others; each round is one update
 * (`act`) and waits for its reply before the next.
 */
export async function closedLoop(options: {
  chats: number[];
  steps: number;
  watcher: ReplyWatcher;
  act(chatId: number, step: number): void;
  onReply?(chatId: number, reply: Reply): void;
}): Promise<LoopResult> {
  const samples: LoopResult['samples'] = [];
  const started = performance.now();
  await Promise.all(
    options.chats.map(async (chatId) => {
      for (let step = 0; step < options.steps; step++) {
        const reply = options.watcher.next(chatId);
        const t0 = performance.now();
        options.act(chatId, step);
        const r = await reply;
        samples.push({ step, ms: r.at - t0 });
        options.onReply?.(chatId, r);
      }
    }),
  );
  return { samples, wallMs: performance.now() - started, updates: samples.length };
}

/** Runs fn over items with at most `limit` in flight. */
export async function pool<T>(items: T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}
