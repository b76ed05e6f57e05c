/**
 * What the drills send and what they check afterwards.
 *
 * Inbound: guests of the fake Telegram write to the bot through its webhook (the fake
 * redelivers a non-2xx answer, a refused connection or a timeout, as Telegram does). Each
 * chat sends a fixed script of commands whose answers are told apart by their text, so the
 * answers a chat got can be matched to the updates it sent, in order: a missing answer is a
 * lost update, an answer out of turn breaks per-chat order, a repeated one is a duplicate
 * (allowed only in the inbound queue's documented at-least-once window: a reply sent just
 * before the process, or its Redis, failed to acknowledge it). Some chats log in by sharing
 * their contact in the middle (a conversation whose state lives in Redis).
 *
 * Notifications: the shop moves orders to "shipped" through the signed API, retrying a
 * non-2xx answer with the same eventId as a shop should; each change must reach its
 * customer's Telegram chat exactly once.
 */
import { performance } from 'node:perf_hooks';
import type { FakeTelegram } from '../../src/fakes/telegram/index.js';
import { signRequest } from '../../src/lib/signature.js';

export const SHOP_SECRET = 'drill-shop-secret-0123456789';

/** A reply's kind, from its text; null: a message the drill does not classify. */
export type Kind = 'help' | 'language' | 'menu' | 'login-prompt' | 'logged-in' | 'consent' | 'notification';

export function classify(text: string): Kind | null {
  if (text.includes('TRKD-')) return 'notification';
  for (const [kind, marks] of KIND_MARKS) if (marks.some((m) => text.includes(m))) return kind;
  return null;
}

/** Distinctive parts of each answer (Russian, the guests' language). */
const KIND_MARKS: Array<[Kind, string[]]> = [
  ['help', ['Выберите тему или напишите нам']],
  ['language', ['Выберите язык']],
  ['login-prompt', ['Поделиться номером']],
  ['logged-in', ['вы вошли']],
  ['consent', ['Присылать вам сюда акции']],
  // A guest's menu, then a customer's.
  ['menu', ['Здесь ваши заказы', 'Личный кабинет']],
];

interface Step {
  /** What the person sends. */
  send: { text: string } | { contact: true };
  /** The kinds of the bot's messages in answer, in order. */
  expect: Kind[];
}

export interface SentUpdate {
  chat: number;
  updateId: number;
  at: number;
  step: Step;
}

export interface InboundPlan {
  chats: number;
  /** Updates per second over all chats. */
  rate: number;
  durationMs: number;
  /** Every n-th chat logs in by contact in the middle of its script. */
  loginEvery: number;
}

export const STEPS = {
  help: { send: { text: '/help' }, expect: ['help'] },
  language: { send: { text: '/language' }, expect: ['language'] },
  menu: { send: { text: '/menu' }, expect: ['menu'] },
  login: { send: { text: '/login' }, expect: ['login-prompt'] },
  contact: { send: { contact: true }, expect: ['logged-in', 'consent', 'menu'] },
} satisfies Record<string, Step>;

const SCRIPT: Step[] = [STEPS.help, STEPS.language, STEPS.menu];

export const inboundUser = (base: number, i: number) => base + i;

/**
 * Sends the inbound plan: round robin over chats at `rate` per second; chat i's n-th update is
 * SCRIPT[n % 3], except that login chats send /login then their contact at their 4th and 5th.
 */
export async function sendInbound(fake: FakeTelegram, token: string, userBase: number, plan: InboundPlan, phoneOf: (i: number) => string, stop: () => boolean): Promise<SentUpdate[]> {
  const sent: SentUpdate[] = [];
  const counts = new Array<number>(plan.chats).fill(0);
  const started = performance.now();
  const interval = 1000 / plan.rate;
  for (let n = 0; performance.now() - started < plan.durationMs && !stop(); n++) {
    const i = n % plan.chats;
    const chat = inboundUser(userBase, i);
    const k = counts[i]!;
    counts[i] = k + 1;
    const login = i % plan.loginEvery === 0;
    const step = login && k === 3 ? STEPS.login : login && k === 4 ? STEPS.contact : SCRIPT[k % SCRIPT.length]!;
    const update = 'text' in step.send ? fake.sendText(token, chat, step.send.text) : fake.sendContact(token, chat, { phone: phoneOf(i), firstName: `Guest${i}` });
    sent.push({ chat, updateId: update.update_id, at: performance.now(), step });
    const next = started + (n + 1) * interval;
    const wait = next - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  return sent;
}

export interface Reply {
  chat: number;
  kind: Kind | null;
  text: string;
  at: number;
}

export interface ChatVerdict {
  answered: number;
  lost: number;
  duplicates: number;
  outOfOrder: number;
  unclassified: number;
  /** ms from sending an update to its (last) answer, with the update's send time. */
  latencies: Array<{ sentAt: number; ms: number }>;
}

/**
 * Matches a chat's answers to its updates in order. An answer that is not the next expected one
 * but belongs to the answer of the update just answered, or of the one being answered, is a
 * duplicate (that update handled again, wholly or in part: the at-least-once window); any other
 * mismatch is out of order; expected answers never seen are lost updates.
 */
export function judgeChat(updates: SentUpdate[], replies: Reply[]): ChatVerdict {
  const expected: Array<{ kind: Kind; update: SentUpdate; last: boolean }> = [];
  for (const u of updates) u.step.expect.forEach((kind, idx) => expected.push({ kind, update: u, last: idx === u.step.expect.length - 1 }));
  const v: ChatVerdict = { answered: 0, lost: 0, duplicates: 0, outOfOrder: 0, unclassified: 0, latencies: [] };
  let j = 0;
  let lastDone: SentUpdate | undefined;
  for (const r of replies) {
    if (r.kind === null) {
      v.unclassified += 1;
      continue;
    }
    const want = expected[j];
    if (want && r.kind === want.kind) {
      if (want.last) {
        v.answered += 1;
        v.latencies.push({ sentAt: want.update.at, ms: r.at - want.update.at });
        lastDone = want.update;
      }
      j += 1;
    } else if ((lastDone && lastDone.step.expect.includes(r.kind)) || (want && want.update !== lastDone && expected[j - 1]?.update === want.update && want.update.step.expect.includes(r.kind))) {
      v.duplicates += 1;
    } else {
      v.outOfOrder += 1;
    }
  }
  v.lost = updates.length - v.answered;
  return v;
}

export interface ShopResult {
  /** Status changes accepted (2xx) in the end. */
  accepted: number;
  /** Answers by status ("network" for a refused or cut connection). */
  answers: Map<string, number>;
  /** Status changes not accepted by the deadline. */
  gaveUp: number;
  postedAt: Map<number, number>;
  retryAfterSeen: number;
}

/**
 * The shop's side: one signed status change per order, `rate` per second, each retried with
 * the same eventId after a non-2xx answer or a network error (honouring Retry-After, capped),
 * until it is accepted or `deadline` passes.
 */
export async function sendStatusChanges(base: string, orders: Array<{ number: string; chat: number }>, rate: number, deadline: number): Promise<ShopResult> {
  const result: ShopResult = { accepted: 0, answers: new Map(), gaveUp: 0, postedAt: new Map(), retryAfterSeen: 0 };
  const count = (key: string) => result.answers.set(key, (result.answers.get(key) ?? 0) + 1);
  const started = performance.now();
  await Promise.all(
    orders.map(async (o, i) => {
      const due = started + (i * 1000) / rate;
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
      result.postedAt.set(o.chat, performance.now());
      const path = `/api/v1/orders/${o.number}/status`;
      const body = JSON.stringify({ eventId: `drill-ship-${o.number}`, status: 'shipped', occurredAt: new Date().toISOString(), carrier: 'CDEK', trackingNumber: `TRKD-${o.number}`, trackingUrl: `https://track.example/${o.number}` });
      while (performance.now() < deadline) {
        let wait = 500;
        try {
          const res = await fetch(`${base}${path}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'kabinet-signature': signRequest(SHOP_SECRET, { method: 'POST', path, body }) },
            body,
            signal: AbortSignal.timeout(15_000),
          });
          await res.text();
          count(String(res.status));
          if (res.status >= 200 && res.status < 300) {
            result.accepted += 1;
            return;
          }
          const retryAfter = Number(res.headers.get('retry-after'));
          if (retryAfter > 0) {
            result.retryAfterSeen += 1;
            wait = Math.min(retryAfter * 1000, 2_000);
          }
          if (res.status < 500 && res.status !== 429) {
            // A 4xx other than 429 will not change by retrying: the drill reports it.
            return;
          }
        } catch {
          count('network');
        }
        await new Promise((r) => setTimeout(r, wait));
      }
      result.gaveUp += 1;
    }),
  );
  return result;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
