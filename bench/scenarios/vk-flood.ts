/**
 * Benchmark 5: a flood of VK Callback API events (30 people × 10 messages = 300 events) against
 * Kabinet's VK route, the production one (recorded in the durable inbound queue, "ok" at once,
 * the brain consuming in the same process, as `npm run dev` runs) next to the previous design
 * (handled before "ok") on the same process. Each person's events are sent one after the other
 * (VK keeps one event per peer in flight), people in parallel; the bench POSTs them itself.
 *
 * All events are written at once (the flood); VK then delivers each person's events one
 * after the other. Per event: ms from POST to the route's answer (what VK waits for), and from
 * the moment the person sent it to the brain's reply (messages.send to that person at the fake
 * VK, matched in order per person): what the person waits for, VK's own queueing included. The brain's
 * replies are bounded by VK's 20 requests/s per community (vk-io's limiter, the fake's window),
 * so 300 replies take at least 15 s whatever the route does.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { FakeVk } from '../../src/fakes/vk/index.js';
import { keepAliveClient } from '../lib/http-client.js';
import { rawConnection, type RawConnection } from '../lib/raw-http.js';

export const VK_GROUP = 7200;
export const VK_TOKEN = 'vk-bench-community-token';
export const VK_SECRET = 'vk-bench-callback-secret';
export const VK_CONFIRMATION = 'bench-confirm';

export interface FloodRun {
  /** POST → the route's answer, ms. */
  answers: number[];
  /** The person sent it → the reply at the fake, ms. */
  replies: number[];
  wallMs: number;
  /** From the first event sent to the last answer. */
  answeredMs: number;
  statuses: Map<number, number>;
  /** messages.send calls the fake refused (rate limit …). */
  refused: number;
  events: number;
  /** The bench process's event-loop delay over the flood, ms: it runs the fake VK and times the answers. */
  benchLoop: { p99: number; max: number };
  /** The answering process's event-loop delay over the flood, ms (with a `loop` probe). */
  botLoop?: { p99: number; max: number };
}

export interface FloodOptions {
  people: number;
  perPerson: number;
  /** First fake VK user id of this run (each run its own people: names are cached per person). */
  userIdBase: number;
  /** The answering process's event-loop delay since the last call (bots.ts BotProcess.loop). */
  loop?: () => Promise<{ p99: number; max: number }>;
}

export async function vkFlood(fake: FakeVk, url: string, options: FloodOptions): Promise<FloodRun> {
  const people = Array.from({ length: options.people }, (_, i) => fake.createUser({ id: options.userIdBase + i, firstName: `Flood${i}`, langId: 0 }));
  const waiting = new Map<number, Array<(at: number) => void>>();
  let refused = 0;
  const off = fake.onCall((call) => {
    if (call.method !== 'messages.send' || call.groupId !== VK_GROUP) return;
    if (call.error) {
      refused += 1;
      return;
    }
    const at = performance.now();
    for (const peer of String(call.params.peer_ids ?? call.params.peer_id ?? '').split(',')) waiting.get(Number(peer))?.shift()?.(at);
  });
  const answers: number[] = [];
  const replies: Promise<void>[] = [];
  const replyMs: number[] = [];
  const statuses = new Map<number, number>();
  // A keep-alive connection per person, written and read by hand (bench/lib/raw-http.ts): the
  // bench process also runs the fake VK, and a client's own CPU there is timed as the route's.
  // BENCH_FLOOD_CLIENT=http: node:http's client instead (the driver until 2026-12-07).
  const { origin, pathname: path } = new URL(url);
  const shared = process.env.BENCH_FLOOD_CLIENT === 'http' ? keepAliveClient(origin, options.people) : undefined;
  const connections: RawConnection[] = [];
  const connectionFor = (): { post(body: string): Promise<{ status: number }> } => {
    if (shared) return { post: (body) => shared.post(path, body) };
    const raw = rawConnection(origin);
    connections.push(raw);
    return { post: (body) => raw.post(path, body) };
  };
  // Each person's events and connection are made before the clock starts: building 300 events
  // takes the bench's loop tens of ms, which the first answers were timed with. The connections
  // are open before the flood, as VK's kept-alive delivery connections (or a proxy's upstream
  // pool) are; BENCH_FLOOD_COLD=1 opens each one inside the timed region instead, with its first
  // request (Node 20's libuv accepts one new connection per event-loop turn, so a busy server
  // takes the 30 connections of a cold flood one turn at a time: README "In front of the web role").
  const senders = people.map((person) => ({
    person,
    connection: connectionFor(),
    events: Array.from({ length: options.perPerson }, () => JSON.stringify(fake.sendText(VK_GROUP, person.id, '/help').event)),
  }));
  if (process.env.BENCH_FLOOD_COLD !== '1') await Promise.all(connections.map((c) => c.open()));
  await options.loop?.(); // from here
  const benchLoop = monitorEventLoopDelay({ resolution: 5 });
  benchLoop.enable();
  const started = performance.now();
  try {
    await Promise.all(
      senders.map(async ({ person, connection, events }) => {
        const queue: Array<(at: number) => void> = [];
        waiting.set(person.id, queue);
        // The person sends them all at the flood's start; VK delivers them one after the other.
        const sentAt = performance.now();
        for (const body of events) {
          replies.push(
            new Promise<void>((resolve, reject) => {
              const timer = setTimeout(() => reject(new Error(`no reply to ${person.id} within 120 s`)), 120_000);
              queue.push((at) => {
                clearTimeout(timer);
                replyMs.push(at - sentAt);
                resolve();
              });
            }),
          );
          const t0 = performance.now();
          const res = await connection.post(body);
          answers.push(performance.now() - t0);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        }
      }),
    );
    const answered = performance.now();
    benchLoop.disable();
    const botLoop = await options.loop?.();
    await Promise.all(replies);
    return {
      answers,
      replies: replyMs,
      wallMs: performance.now() - started,
      statuses,
      refused,
      events: options.people * options.perPerson,
      // Over the answers (the flood's first seconds), not the replies' 17 s that follow.
      benchLoop: { p99: benchLoop.percentile(99) / 1e6, max: benchLoop.max / 1e6 },
      ...(botLoop ? { botLoop } : {}),
      answeredMs: answered - started,
    };
  } finally {
    off();
    shared?.close();
    for (const c of connections) c.close();
  }
}

export interface WarmOptions {
  connections: number;
  perConnection: number;
  /** Group-chat peer ids from here (2e9 + n in VK), one per connection. */
  peerBase: number;
  /** The consuming process's count of finished items (BotProcess.handled): warm-up ends once they are all handled. */
  handled: () => Promise<number>;
}

/**
 * Warms a callback route's code before a timed flood: `connections × perConnection` message_new
 * events through the route, each from a group chat, which the brain reads and leaves (it answers
 * private dialogs only), so no reply goes out and VK's 20 requests/s do not stretch the warm-up;
 * the route records them exactly as a private message. Resolves once the consumers have handled
 * every one of them, so the flood starts on a quiet process.
 *
 * Why: a process answers its first thousand events with code V8 has not optimised yet. Measured
 * on a web-only process (1500 events a round over 30 connections): 431, 249, 120, 101, 94 µs of
 * CPU per event in rounds 1–5; the 50-event warm-up used until the sixth session of 2026-12-07
 * left the split flood's web process in the first round's regime.
 */
export async function warmRoute(fake: FakeVk, url: string, options: WarmOptions): Promise<void> {
  const { origin, pathname: path } = new URL(url);
  const user = fake.createUser({ id: options.peerBase, firstName: 'Warm', langId: 0 });
  const before = await options.handled();
  const total = options.connections * options.perConnection;
  const connections = Array.from({ length: options.connections }, () => rawConnection(origin));
  try {
    await Promise.all(
      connections.map(async (connection, i) => {
        const peer = 2_000_000_000 + options.peerBase + i;
        for (let n = 0; n < options.perConnection; n++) {
          const event = fake.sendText(VK_GROUP, user.id, 'warm').event as unknown as { object: { message: { peer_id: number } } };
          event.object.message.peer_id = peer;
          const answer = await connection.post(path, JSON.stringify(event));
          if (answer.status !== 200) throw new Error(`warm-up event answered ${answer.status}`);
        }
      }),
    );
  } finally {
    for (const c of connections) c.close();
  }
  const deadline = performance.now() + 60_000;
  while ((await options.handled()) - before < total) {
    if (performance.now() > deadline) throw new Error(`warm-up: ${total} events not handled within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
