/**
 * Open loop (issue 13): updates are offered at a set rate whatever the answers do, spread over
 * the chats round robin, each step for a few seconds; latency is from the update being queued
 * at the fake Telegram (its webhook delivery, one update per chat in flight and at most
 * max_connections 40 in all, as Telegram does) to the bot's reply at the fake. The figure is the
 * highest offered rate whose p99 stays under 50 ms.
 *
 * Several subjects (the bare bot and Kabinet) climb the ladder together, interleaved: at each
 * rate every subject still climbing runs its step, one after the other, so a slow minute of
 * this shared VM falls on both alike instead of on whichever ladder ran then. A step that fails
 * is run once more (`retries`), for every subject alike: a rate passes if either run does, so
 * one stall (a neighbour's burst, a GC) does not decide a subject's figure.
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
  /** The bot process's own event-loop delay over the step, ms (p99 and max). */
  botLoop?: { p99: number; max: number };
  /** A bisection step after the ladder (between the highest rate that passed and the next that failed). */
  refined?: boolean;
  /** The same rate run again because the run before it failed. */
  again?: boolean;
  /** Which round of the ladder (BENCH_OPEN_ROUNDS > 1). */
  round?: number;
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

/** One bot under the open loop: its token at the fake, its replies, and its process's probes. */
export interface OpenLoopSubject {
  token: string;
  watcher: ReplyWatcher;
  stages?: (() => Promise<StageTimes[]>) | undefined;
  cpu?: (() => Promise<number>) | undefined;
  /** The bot process's event-loop delay since the last call (p99, max; ms). */
  loop?: (() => Promise<{ p99: number; max: number }>) | undefined;
}

export async function openLoop(
  fake: FakeTelegram,
  users: TgUser[],
  subjects: OpenLoopSubject[],
  options: { rates: number[]; seconds: number; refine?: number; retries?: number },
): Promise<OpenLoopFigures[]> {
  const steps: OpenLoopStep[][] = subjects.map(() => []);
  for (const subject of subjects) await subject.stages?.(); // drop what earlier benchmarks left
  const passes = (step: OpenLoopStep) => step.p99 < OPEN_LOOP_P99_MS;
  const retries = options.retries ?? 1;
  /** Runs a rate for one subject, again (up to `retries` times) while it fails; the last run. */
  const attempt = async (i: number, rate: number, refined: boolean): Promise<OpenLoopStep> => {
    const mark = refined ? { refined } : {};
    let step = await runStep(subjects[i]!, rate);
    steps[i]!.push({ ...step, ...mark });
    for (let n = 0; n < retries && !passes(step); n++) {
      step = await runStep(subjects[i]!, rate);
      steps[i]!.push({ ...step, ...mark, again: true });
    }
    return step;
  };
  const passed = (i: number) => steps[i]!.filter(passes).map((s) => s.rate);
  // The ladder, then `refine` bisections between the highest rate that passed and the lowest
  // above it that failed: the ladder's steps are a quarter apart at the top (800, 1000, 1200),
  // so a ratio read off the ladder alone moves by as much between neighbouring steps.
  // Past twice the goal higher rates only get worse: a subject leaves the ladder after two
  // rates in a row over twice the goal.
  const overTwice = subjects.map(() => 0);
  for (const rate of options.rates) {
    const climbing = subjects.map((_, i) => i).filter((i) => overTwice[i]! < 2);
    if (climbing.length === 0) break;
    for (const i of climbing) {
      const step = await attempt(i, rate, false);
      overTwice[i] = step.p99 > 2 * OPEN_LOOP_P99_MS ? overTwice[i]! + 1 : 0;
    }
  }
  for (let round = 0; round < (options.refine ?? 0); round++) {
    for (let i = 0; i < subjects.length; i++) {
      const lo = Math.max(0, ...passed(i));
      const hi = Math.min(...steps[i]!.filter((s) => !passes(s) && s.rate > lo).map((s) => s.rate));
      const mid = Math.round((lo + hi) / 2 / 10) * 10;
      if (!Number.isFinite(hi) || lo === 0 || mid <= lo || mid >= hi) continue;
      await attempt(i, mid, true);
    }
  }
  return subjects.map((_, i) => {
    const ok = passed(i);
    return { steps: steps[i]!, best: ok.length ? Math.max(...ok) : 0 };
  });

  async function runStep(subject: OpenLoopSubject, rate: number): Promise<OpenLoopStep> {
    const { token, watcher } = subject;
    const total = Math.round(rate * options.seconds);
    const latencies: number[] = [];
    const byUpdate = new Map<string, { t0: number; reply?: number }>();
    const cpuBefore = await subject.cpu?.();
    await subject.loop?.(); // from here
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
    const botLoop = await subject.loop?.();
    const benchLoop = { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 };
    const s = summarize(latencies);
    const p99 = missing > total / 100 ? Infinity : s.p99;
    // Let the bot drain before the next step; past twice the goal, higher rates only get worse.
    await fake.waitForDelivery(token, { timeoutMs: 30_000 });
    // The fake keeps every message it saw; a ladder sends ~10^5 of them. Forgotten after each
    // step (nothing reads them: replies are watched as calls), so the bench process's heap, and
    // its collector's pauses inside later steps' timings, do not grow through the ladder.
    fake.clearChats();
    // The consumer reports an update once its handler finished, a moment after the reply.
    if (subject.stages) await new Promise((resolve) => setTimeout(resolve, 200));
    const cpuAfter = await subject.cpu?.();
    const stages = subject.stages ? stageFigures(byUpdate, await subject.stages()) : undefined;
    const cpu = cpuBefore !== undefined && cpuAfter !== undefined ? { cpuMsPerUpdate: (cpuAfter - cpuBefore) / 1000 / total } : {};
    return { rate, sent: total, missing, p50: s.p50, p99, benchLoop, ...(botLoop ? { botLoop } : {}), ...(stages ? { stages } : {}), ...cpu };
  }
}
