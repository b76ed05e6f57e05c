/**
 * Open loop (issue 13): updates are offered at a set rate whatever the answers do, spread over
 * the chats round robin, each step for a few seconds; latency is from the update being queued
 * at the fake Telegram (its webhook delivery, one update per chat in flight and at most
 * max_connections 40 in all, as Telegram does) to the bot's reply at the fake. The figure is the
 * highest offered rate whose p99 stays under 50 ms.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { FakeTelegram, TgUser } from '../../src/fakes/telegram/index.js';
import type { StageTimes } from '../lib/bots.js';
import type { ReplyWatcher } from '../lib/replies.js';
import { summarize, type Summary } from '../lib/stats.js';

export const OPEN_LOOP_P99_MS = 50;

export interface OpenLoopStep {
  rate: number;
  sent: number;
  /** Replies that never came within 20 s (counted as slower than any p99). */
  missing: number;
  p50: number;
  p99: number;
  /**
   * Kabinet: where each update's time went (ms; p50/p99 over the step's updates): the fake's
   * delivery and the webhook's record in Redis, waiting for a consumer, the handler until the
   * reply was answered at the fake, and the handler's work after the reply (state writes,
   * release, dedup mark).
   */
  stages?: Record<StageName, Summary>;
  /** The bot process's CPU time (user + system) per update over the step, ms. */
  cpuMsPerUpdate?: number;
  /**
   * The bench process's own event-loop delay over the step, ms (p99 and max): it runs the fake
   * Telegram and the driver, so a stall here delays both bots' updates and replies alike.
   */
  benchLoop?: { p99: number; max: number };
  /** A bisection step after the ladder (between the highest rate that passed and the next that failed). */
  refined?: boolean;
}

export const STAGES = ['to recorded', 'to pickup', 'to reply', 'after reply'] as const;
export type StageName = (typeof STAGES)[number];

export interface OpenLoopFigures {
  steps: OpenLoopStep[];
  /** Highest offered rate with p99 < OPEN_LOOP_P99_MS (0 when none), ladder and bisection steps alike. */
  best: number;
}

const epoch = (t: number) => performance.timeOrigin + t;

/** Per update: queued at the fake and its reply, matched to the consumer's times by update_id. */
function stageFigures(sent: Map<string, { t0: number; reply?: number }>, times: StageTimes[]): Record<StageName, Summary> {
  const samples: Record<StageName, number[]> = { 'to recorded': [], 'to pickup': [], 'to reply': [], 'after reply': [] };
  for (const s of times) {
    const u = sent.get(s.id);
    if (!u || u.reply === undefined) continue;
    samples['to recorded'].push(s.recordedAt - u.t0);
    samples['to pickup'].push(s.startedAt - s.recordedAt);
    samples['to reply'].push(u.reply - s.startedAt);
    samples['after reply'].push(s.finishedAt - u.reply);
  }
  return Object.fromEntries(STAGES.map((name) => [name, summarize(samples[name])])) as Record<StageName, Summary>;
}

export async function openLoop(
  fake: FakeTelegram,
  token: string,
  users: TgUser[],
  watcher: ReplyWatcher,
  options: { rates: number[]; seconds: number; refine?: number; stages?: (() => Promise<StageTimes[]>) | undefined; cpu?: (() => Promise<number>) | undefined },
): Promise<OpenLoopFigures> {
  const steps: OpenLoopStep[] = [];
  await options.stages?.(); // drop what earlier benchmarks left
  const passes = (step: OpenLoopStep) => step.p99 < OPEN_LOOP_P99_MS;
  // The ladder, then `refine` bisections between the highest rate that passed and the lowest
  // above it that failed: the ladder's steps are a quarter apart at the top (800, 1000, 1200),
  // so a ratio read off the ladder alone moves by as much between neighbouring steps.
  // Past twice the goal higher rates only get worse, but one step can be spoiled by a single
  // stall (one reply at 200 ms among 400 at 5 ms): the ladder stops after two such steps in a row.
  let overTwice = 0;
  for (const rate of options.rates) {
    const step = await runStep(rate);
    steps.push(step);
    overTwice = step.p99 > 2 * OPEN_LOOP_P99_MS ? overTwice + 1 : 0;
    if (overTwice === 2) break;
  }
  for (let i = 0; i < (options.refine ?? 0); i++) {
    const lo = Math.max(0, ...steps.filter(passes).map((s) => s.rate));
    const hi = Math.min(...steps.filter((s) => !passes(s) && s.rate > lo).map((s) => s.rate));
    const mid = Math.round((lo + hi) / 2 / 10) * 10;
    if (!Number.isFinite(hi) || lo === 0 || mid <= lo || mid >= hi) break;
    steps.push({ ...(await runStep(mid)), refined: true });
  }
  const ok = steps.filter(passes).map((s) => s.rate);
  return { steps, best: ok.length ? Math.max(...ok) : 0 };

  async function runStep(rate: number): Promise<OpenLoopStep> {
    const total = Math.round(rate * options.seconds);
    const latencies: number[] = [];
    const byUpdate = new Map<string, { t0: number; reply?: number }>();
    const cpuBefore = await options.cpu?.();
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
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
        const sentUpdate = { t0: epoch(t0) } as { t0: number; reply?: number };
        byUpdate.set(String(fake.sendText(token, user.id, '/start').update_id), sentUpdate);
        waits.push(
          reply.then(
            (r) => {
              latencies.push(r.at - t0);
              sentUpdate.reply = epoch(r.at);
            },
            () => void (missing += 1),
          ),
        );
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(waits);
    loop.disable();
    const benchLoop = { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 };
    const s = summarize(latencies);
    const p99 = missing > total / 100 ? Infinity : s.p99;
    // Let the bot drain before the next step; past twice the goal, higher rates only get worse.
    await fake.waitForDelivery(token, { timeoutMs: 30_000 });
    // The consumer reports an update once its handler finished, a moment after the reply.
    if (options.stages) await new Promise((resolve) => setTimeout(resolve, 200));
    const cpuAfter = await options.cpu?.();
    const stages = options.stages ? stageFigures(byUpdate, await options.stages()) : undefined;
    const cpu = cpuBefore !== undefined && cpuAfter !== undefined ? { cpuMsPerUpdate: (cpuAfter - cpuBefore) / 1000 / total } : {};
    return { rate, sent: total, missing, p50: s.p50, p99, benchLoop, ...(stages ? { stages } : {}), ...cpu };
  }
}
