/**
 * Fuzz over every shop API route (issue 14): random, mutated and oversized bodies and path or
 * query values, all correctly signed, so they get past the signature and reach parsing,
 * validation and the database. Every answer must be below 500, and a refused request must
 * leave every table as it was. Seeded: FUZZ_SEED=<n> replays a run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../src/server/app.js';
import { createTestContext, type TestContext } from '../../support/context.js';
import { buildShopApp, productInput, rowCounts, signedGet, signedPost } from './helpers.js';

let ctx: TestContext;
let app: App;
const seed = Number(process.env.FUZZ_SEED ?? 20261206);

beforeAll(async () => {
  ctx = await createTestContext();
  ({ app } = await buildShopApp(ctx, { bodyLimitBytes: 256 * 1024, batchBodyLimitBytes: 1024 * 1024, batchMaxItems: 200 }));
});
afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

/** mulberry32: small, seeded, good enough to pick cases. */
function rng(s: number) {
  return () => {
    s |= 0;
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(seed);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const int = (n: number) => Math.floor(rand() * n);

const NASTY_STRINGS = ['', ' ', '\u0000', 'a\u0000b', '\ud800', '\udfff\ud800', '💥'.repeat(50), 'x'.repeat(5000), '%00', '../../etc', "'; DROP TABLE customers; --", '<script>', '\u202e', 'null', '0', '-1', 'true', '2026-13-45T25:61:00Z', '+7'.padEnd(40, '9'), '+79991234567', '8 (999) 123-45-67'];
const NASTY_NUMBERS = [0, -0, -1, 1, 0.5, 1e308, -1e308, 2 ** 31, 2 ** 31 - 1, 2 ** 53 + 2, 9_999_999_999.99, 9_999_999_999.999, 1e10, 3e9, 1e-300];

function randomValue(depth = 0): unknown {
  const r = rand();
  if (depth > 3 || r < 0.35) return pick(NASTY_STRINGS);
  if (r < 0.6) return pick(NASTY_NUMBERS);
  if (r < 0.68) return pick([true, false, null]);
  if (r < 0.84) return Array.from({ length: int(4) }, () => randomValue(depth + 1));
  return Object.fromEntries(Array.from({ length: int(4) }, () => [pick(['sku', 'phone', 'price', 'items', 'a\u0000', '__proto__', 'constructor', 'x'.repeat(300)]), randomValue(depth + 1)]));
}

/** Changes one random leaf (or key) of a valid body. */
function mutate(value: unknown): unknown {
  if (Array.isArray(value)) {
    if (value.length === 0 || rand() < 0.15) return [...value, randomValue()];
    const copy = [...value];
    const i = int(copy.length);
    copy[i] = mutate(copy[i]);
    return copy;
  }
  if (value && typeof value === 'object') {
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const keys = Object.keys(copy);
    const r = rand();
    if (r < 0.1 && keys.length) delete copy[pick(keys)];
    else if (r < 0.2) copy[pick(['extra', 'history', 'status', 'a\u0000'])] = randomValue();
    else if (keys.length) {
      const k = pick(keys);
      copy[k] = rand() < 0.6 ? mutate(copy[k]) : randomValue();
    }
    return copy;
  }
  return rand() < 0.5 ? randomValue() : value;
}

let n = 0;
const eventId = () => `fz-${seed}-${++n}`;
const orderBody = (num: string) => ({
  number: num, customerPhone: `+7999${String(1_000_000 + int(9_000_000))}`, status: pick(['created', 'paid', 'delivered', 'cancelled']), itemsTotal: 100, total: 100,
  placedAt: '2026-03-01T10:00:00Z', items: [{ sku: `FZ-${int(20)}`, name: 'Товар', quantity: 1, price: 100 }], ...(rand() < 0.3 ? { history: true } : {}),
});
const customerBody = () => ({ phone: `+7999${String(1_000_000 + int(9_000_000))}`, firstName: 'Фазз', ...(rand() < 0.5 ? { externalId: `fz-ext-${int(30)}` } : {}) });

type Case = { method: 'GET' | 'POST'; url: string; body?: unknown; raw?: string; write: boolean };

/** A valid request per route; the fuzzer mutates it. */
function validCase(): Case {
  const num = `FZ-O-${int(15)}`;
  switch (int(13)) {
    case 0: return { method: 'POST', url: '/api/v1/customers', body: { eventId: eventId(), customer: customerBody() }, write: true };
    case 1: return { method: 'POST', url: '/api/v1/products', body: { eventId: eventId(), product: productInput(`FZ-${int(20)}`, { stock: int(3), price: 10 + int(5) }) }, write: true };
    case 2: return { method: 'POST', url: '/api/v1/orders', body: { eventId: eventId(), order: orderBody(num) }, write: true };
    case 3: return { method: 'POST', url: `/api/v1/orders/${num}/status`, body: { eventId: eventId(), status: pick(['shipped', 'delivered', 'returned']), occurredAt: '2026-03-02T10:00:00Z' }, write: true };
    case 4: return { method: 'POST', url: '/api/v1/loyalty/transactions', body: { eventId: eventId(), customer: { externalId: `fz-ext-${int(30)}` }, kind: pick(['adjustment', 'redemption']), points: 1 + int(50) }, write: true };
    case 5: return { method: 'POST', url: '/api/v1/loyalty/balance', body: { customer: { externalId: `fz-ext-${int(30)}` } }, write: false };
    case 6: return { method: 'POST', url: '/api/v1/webhooks/test', body: {}, write: false };
    case 7: return { method: 'POST', url: `/api/v1/products/batch${rand() < 0.3 ? '?async=true' : ''}`, body: { eventId: eventId(), items: Array.from({ length: 1 + int(5) }, () => productInput(`FZ-${int(20)}`)) }, write: true };
    case 8: return { method: 'POST', url: `/api/v1/orders/batch${rand() < 0.3 ? '?async=true' : ''}`, body: { eventId: eventId(), items: Array.from({ length: 1 + int(5) }, () => orderBody(`FZ-O-${int(15)}`)) }, write: true };
    case 9: return { method: 'POST', url: `/api/v1/customers/batch${rand() < 0.3 ? '?async=true' : ''}`, body: { eventId: eventId(), items: Array.from({ length: 1 + int(5) }, customerBody) }, write: true };
    case 10: return { method: 'GET', url: `/api/v1/customers/lookup?${pick(['phone=%2B79991234567', 'externalId=fz-ext-1', 'phone=', 'phone=a&phone=b', 'externalId=%00', 'unknown=1', `phone=${'9'.repeat(200)}`])}`, write: false };
    case 11: return { method: 'GET', url: `/api/v1/orders/${pick([num, '%00', '%E0%A4%A', 'x'.repeat(300), '..%2F..%2Fadmin', '%F0%9F%92%A5'])}`, write: false };
    default: return { method: 'GET', url: `/api/v1/${pick(['products', 'jobs'])}/${pick(['FZ-1', '%00', 'not-a-uuid', '00000000-0000-7000-8000-000000000000', 'x'.repeat(150), '%ZZ'])}`, write: false };
  }
}

/** Valid, mutated, random or oversized, as text. */
function fuzzed(c: Case): Case {
  const r = rand();
  if (c.method === 'GET' || r < 0.1) return c;
  if (r < 0.55) return { ...c, body: mutate(c.body) };
  if (r < 0.75) return { ...c, body: randomValue() };
  if (r < 0.85) return { ...c, raw: JSON.stringify(c.body).slice(0, 1 + int(40)) }; // truncated JSON
  if (r < 0.92) return { ...c, body: { ...(c.body as object), pad: 'p'.repeat(300_000 + int(900_000)) } }; // oversized
  return { ...c, raw: `{"eventId":"${eventId()}","items":[${'['.repeat(5000)}${']'.repeat(5000)}]}` }; // deep nesting
}

describe('fuzz over every route, correctly signed', () => {
  it('never answers 5xx and never leaves partial rows', async () => {
    const failures: string[] = [];
    for (let i = 0; i < 350; i++) {
      const c = fuzzed(validCase());
      const before = c.write ? await rowCounts(ctx) : null;
      const res = c.method === 'GET' ? await signedGet(app, c.url) : await signedPost(app, c.url, c.body, c.raw !== undefined ? { raw: c.raw } : {});
      const shown = `#${i} ${c.method} ${c.url.slice(0, 80)} ${(c.raw ?? JSON.stringify(c.body) ?? '').slice(0, 160)}`;
      if (res.statusCode >= 500 && !(c.url.endsWith('/webhooks/test') && res.statusCode === 503)) failures.push(`${res.statusCode} ${res.body.slice(0, 200)} ← ${shown}`);
      if (res.statusCode >= 400) {
        expect(Object.keys(res.json()), shown).toEqual(expect.arrayContaining(['error', 'message', 'requestId']));
        if (before) expect(await rowCounts(ctx), shown).toEqual(before);
      } else if (c.url.includes('/batch') && res.statusCode === 200 && !res.json().duplicate) {
        const r = res.json();
        expect(r.created + r.updated + r.failed, shown).toBe(r.received);
      }
    }
    expect(failures, `seed ${seed}`).toEqual([]);
  }, 300_000);
});
