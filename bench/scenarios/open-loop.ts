/**
 * Open loop (issue 13): updates are offered at a set rate whatever the answers do, spread over
 * the chats round robin, each step for a few seconds; latency is from the update being queued
 * at the fake Telegram (its webhook delivery, one update per chat in flight and at most
 * max_connections 40 in all, as Telegram does) to the bot's reply at the fake. The figure is the
 * highest offered rate whose p99 stays under 50 ms.
 */
import { performance } from 'node:perf_hooks';
import type { FakeTelegram, TgUser } from '../../src/fakes/telegram/index.js';
import type { ReplyWatcher } from '../lib/replies.js';
import { summarize } from '../lib/stats.js';

export const OPEN_LOOP_P99_MS = 50;

export interface OpenLoopStep {
  rate: number;
  sent: number;
  /** Replies that never came within 20 s (counted as slower than any p99). */
  missing: number;
  p50: number;
  p99: number;
}

export interface OpenLoopFigures {
  steps: OpenLoopStep[];
  /** Highest offered rate with p99 < OPEN_LOOP_P99_MS (0 when none). */
  best: number;
}

export async function openLoop(fake: FakeTelegram, token: string, users: TgUser[], watcher: ReplyWatcher, options: { rates: number[]; seconds: number }): Promise<OpenLoopFigures> {
  const steps: OpenLoopStep[] = [];
  for (const rate of options.rates) {
    const total = Math.round(rate * options.seconds);
    const latencies: number[] = [];
    let missing = 0;
    const waits: Promise<void>[] = [];
    const started = performance.now();
    let sent = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1000) + 1);
      for (; sent < due; sent++) {
        const user = users[sent % users.length]!;
        const reply = watcher.next(user.id, 20_000);
        const t0 = performance.now();
        fake.sendText(token, user.id, '/start');
        waits.push(reply.then((r) => void latencies.push(r.at - t0), () => void (missing += 1)));
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(waits);
    const s = summarize(latencies);
    const p99 = missing > total / 100 ? Infinity : s.p99;
    steps.push({ rate, sent: total, missing, p50: s.p50, p99 });
    // Let the bot drain before the next step; past twice the goal, higher rates only get worse.
    await fake.waitForDelivery(token, { timeoutMs: 30_000 });
    if (p99 > 2 * OPEN_LOOP_P99_MS) break;
  }
  const ok = steps.filter((s) => s.p99 < OPEN_LOOP_P99_MS).map((s) => s.rate);
  return { steps, best: ok.length ? Math.max(...ok) : 0 };
}
