/**
 * The sandbox end to end: Kabinet (web + worker) against its own fake Telegram and VK, driven
 * through the page's JSON API and its event stream the way the browser page drives them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSandbox, type RunningSandbox } from './harness.js';
import { signPayload } from '../../src/lib/signature.js';
import { SANDBOX_SHOP_WEBHOOK_PATH } from '../../src/sandbox/sandbox.js';
import enProfile from '../../locales/en/profile.json' with { type: 'json' };

let run: RunningSandbox;
let base: string;

beforeAll(async () => {
  run = await runSandbox();
  base = run.base;
});

afterAll(async () => {
  await run?.close();
});

async function call<T = Record<string, unknown>>(path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${base}${path}`, body ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {});
  return { status: res.status, json: (await res.json()) as T };
}

interface Button { label: string; kind: string; data?: string }
interface Chat { messages: Array<{ id: number; from: string; text: string; at: string; inline: Button[][] }>; keyboard: Button[][] }
interface PanelOrder { number: string; status: string; paymentStatus: string | null; next: string[] }

async function waitFor<T>(what: string, read: () => Promise<T>, predicate: (value: T) => boolean): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < 150; i++) {
    last = await read();
    if (predicate(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} never came; last: ${JSON.stringify(last).slice(-600)}`);
}

const chatOf = (person: string) => call<Chat>(`/sandbox/api/chat?person=${person}`).then((r) => r.json);
const waitForChat = (person: string, predicate: (chat: Chat) => boolean) => waitFor(`chat of ${person}`, () => chatOf(person), predicate);
const ordersOf = (person: string) => call<{ orders: PanelOrder[] }>(`/sandbox/api/orders?person=${person}`).then((r) => r.json.orders);

/** /start, then share the contact (the guest menu may first offer a log-in button). */
async function loginOnTelegram(person: string): Promise<void> {
  await call('/sandbox/api/send', { person, text: '/start' });
  const greeted = await waitForChat(person, (c) => c.messages.some((m) => m.from === 'bot'));
  if (!greeted.keyboard.flat().some((b) => b.kind === 'contact')) {
    const last = greeted.messages.at(-1)!;
    const login = last.inline.flat().find((b) => b.data === 'm:login')!;
    await call('/sandbox/api/press', { person, kind: 'callback', label: login.label, data: login.data, messageId: last.id });
  }
  const asked = await waitForChat(person, (c) => c.keyboard.flat().some((b) => b.kind === 'contact'));
  // The share-number button shows its icon once (the page adds none).
  expect(asked.keyboard.flat().find((b) => b.kind === 'contact')!.label).toMatch(/^📱 [^📱]+$/u);
  await call('/sandbox/api/press', { person, kind: 'contact', label: asked.keyboard.flat().find((b) => b.kind === 'contact')!.label });
  await waitForChat(person, (c) => c.messages.some((m) => m.from === 'bot' && /вошли|logged in/i.test(m.text)));
}

/** Opens the page's event stream and collects `{ type, data }` events. */
async function listen(): Promise<{ events: Array<{ type: string; data: Record<string, unknown> }>; close(): void }> {
  const controller = new AbortController();
  const res = await fetch(`${base}/sandbox/api/events`, { signal: controller.signal });
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const events: Array<{ type: string; data: Record<string, unknown> }> = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = frame.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          if (data) events.push(JSON.parse(data));
        }
      }
    } catch { /* aborted */ }
  })();
  return { events, close: () => controller.abort() };
}

describe('sandbox page and files', () => {
  it('serves the page, its module and style, a favicon, and redirects / to the page', async () => {
    const page = await fetch(`${base}/sandbox`);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('Kabinet sandbox');
    expect(html).toContain('rel="icon"');
    const app = await fetch(`${base}/sandbox/app.js`);
    expect(app.status).toBe(200);
    expect(app.headers.get('content-type')).toContain('text/javascript');
    expect((await fetch(`${base}/sandbox/sandbox.css`)).headers.get('content-type')).toContain('text/css');
    const icon = await fetch(`${base}/favicon.ico`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toContain('image/svg+xml');
    const root = await fetch(`${base}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
  });

  it('serves only plain file names from its folder: no traversal, no other extensions', async () => {
    for (const path of ['/sandbox/..%2fsandbox.ts', '/sandbox/..%2F..%2Fpackage.json', '/sandbox/%2e%2e%2fsandbox.plugin.ts', '/sandbox/index.html.js', '/sandbox/sandbox.ts', '/sandbox/.hidden.js']) {
      const res = await fetch(`${base}${path}`);
      expect(`${path} ${res.status}`).toBe(`${path} 404`);
    }
    // A panel module that has not landed is a clean 404 (the page shows "not available").
    const missing = await fetch(`${base}/sandbox/no-such-panel.js`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toBe('not_found');
  });

  it('offers all five seeded customers and a new one, on both messengers, with the bot time zone', async () => {
    const { json } = await call<{ people: Array<{ key: string; phone: string }>; timeZone: string }>('/sandbox/api/info');
    const phones = new Set(json.people.map((p) => p.phone));
    for (const phone of ['+79990000001', '+79990000002', '+79990000003', '+79990000004', '+79990000005', '+79990000042']) expect(phones.has(phone)).toBe(true);
    expect(json.people.filter((p) => p.key.startsWith('vk:'))).toHaveLength(6);
    expect(json.timeZone).toBe(run.ctx.config.timeZone);
  });
});

describe('sandbox chat and events', () => {
  it('pushes a chat change, an SMS and any plugin event over server-sent events', async () => {
    const stream = await listen();
    try {
      await waitFor('hello', async () => stream.events, (e) => e.some((x) => x.type === 'hello'));
      await call('/sandbox/api/send', { person: 'telegram:1004', text: '/start' });
      await waitFor('chat event', async () => stream.events, (e) => e.some((x) => x.type === 'chat' && x.data.person === 'telegram:1004'));
      await run.sandbox.sms.send({ to: '+79991234567', text: 'Code 123456', code: '123456' });
      const sms = await waitFor('sms event', async () => stream.events, (e) => e.some((x) => x.type === 'sms'));
      expect(sms.find((x) => x.type === 'sms')!.data).toMatchObject({ to: '+79991234567', text: 'Code 123456' });
      run.sandbox.push({ type: 'staff', data: { hello: 1 } });
      await waitFor('plugin event', async () => stream.events, (e) => e.some((x) => x.type === 'staff' && x.data.hello === 1));
      expect(() => run.sandbox.push({ type: 'bad type\n', data: {} })).toThrow();
    } finally {
      stream.close();
    }
  });

  it('pushes the text of a callback answer as a popup (it is not a chat message)', async () => {
    const person = 'telegram:1005'; // David Miller, English
    await loginOnTelegram(person);
    const menu = await waitForChat(person, (c) => c.messages.some((m) => m.inline.flat().some((b) => b.data === 'p:show')));
    const withProfile = menu.messages.filter((m) => m.inline.flat().some((b) => b.data === 'p:show')).at(-1)!;
    await call('/sandbox/api/press', { person, kind: 'callback', label: 'profile', data: 'p:show', messageId: withProfile.id });
    const profile = await waitForChat(person, (c) => c.messages.some((m) => m.inline.flat().some((b) => b.data?.startsWith('p:notify'))));
    const screen = profile.messages.filter((m) => m.inline.flat().some((b) => b.data?.startsWith('p:notify'))).at(-1)!;
    const toggle = screen.inline.flat().find((b) => b.data?.startsWith('p:notify'))!;
    const stream = await listen();
    try {
      await call('/sandbox/api/press', { person, kind: 'callback', label: toggle.label, data: toggle.data, messageId: screen.id });
      const events = await waitFor('popup', async () => stream.events, (e) => e.some((x) => x.type === 'popup'));
      expect(events.find((x) => x.type === 'popup')!.data).toMatchObject({ person, text: enProfile.saved, alert: false });
    } finally {
      stream.close();
    }
  });

  it('lists every SMS the sandbox sent, to any number, newest first', async () => {
    await run.sandbox.sms.send({ to: '+79990000002', text: 'Код 111111', code: '111111' });
    await run.sandbox.sms.send({ to: '+79995550000', text: 'Код 222222', code: '222222' });
    const { json } = await call<{ sms: Array<{ to: string; text: string; at: string }> }>('/sandbox/api/sms');
    expect(json.sms.slice(0, 2).map((s) => s.to)).toEqual(['+79995550000', '+79990000002']);
    expect(Number.isNaN(Date.parse(json.sms[0]!.at))).toBe(false);
  });

  it('refuses a message over the limit with a clear 400 and sends nothing', async () => {
    const before = (await chatOf('telegram:1006')).messages.length;
    const res = await call<{ error: string; message: string }>('/sandbox/api/send', { person: 'telegram:1006', text: 'x'.repeat(4097) });
    expect(res.status).toBe(400);
    expect(res.json.message).toMatch(/4097 characters.*at most 4096/);
    expect((await call('/sandbox/api/send', { person: 'telegram:1006', text: '   ' })).status).toBe(400);
    expect((await chatOf('telegram:1006')).messages.length).toBe(before);
  });

  it('refuses unknown people, stale buttons and malformed bodies with a clear 4xx', async () => {
    expect((await call('/sandbox/api/send', { person: 'telegram:999', text: 'hi' })).status).toBe(404);
    expect((await call('/sandbox/api/press', { person: 'telegram:1002', kind: 'callback', label: 'x', data: 'o:list:0', messageId: 999 })).status).toBe(409);
    expect((await call('/sandbox/api/send', { person: 'telegram:1001' })).status).toBe(400);
    expect((await call('/sandbox/api/order-status', { number: 'NO-SUCH', status: 'shipped' })).status).toBe(404);
    expect((await call('/sandbox/api/order-status', { number: 'K-10001', status: 'lost' })).status).toBe(400);
    expect((await call('/sandbox/api/products/NO-SUCH/restock', {})).status).toBe(404);
    expect((await call('/sandbox/api/products/KB-0001/price-drop', { percent: 95 })).status).toBe(400);
  });
});

describe('sandbox shop panel', () => {
  it('lets a customer log in on Telegram and watch an order status change arrive, with the shop receiving the login webhook', async () => {
    const person = 'telegram:1001';
    await loginOnTelegram(person);

    const order = (await ordersOf(person)).find((o) => o.status === 'assembling')!;
    expect(order.next).toContain('shipped');
    const changed = await call('/sandbox/api/order-status', { number: order.number, status: 'shipped' });
    expect(changed.status).toBe(200);
    const chat = await waitForChat(person, (c) => c.messages.some((m) => m.from === 'bot' && m.text.includes(order.number)));
    expect(chat.messages.find((m) => m.text.includes(order.number))!.inline.flat().some((b) => b.kind === 'url')).toBe(true);

    const hooks = await waitFor('login webhook', () => call<{ webhooks: Array<{ type: string }> }>('/sandbox/api/webhooks').then((r) => r.json.webhooks), (w) => w.some((x) => x.type === 'customer.linked'));
    expect(hooks.length).toBeGreaterThan(0);
  });

  it('offers only the moves a shop makes, and keeps the payment status consistent', async () => {
    const person = 'telegram:1002';
    const orders = await ordersOf(person);
    const delivered = orders.find((o) => o.status === 'delivered')!;
    expect(delivered.next).toEqual(['returned']);
    const refused = await call<{ error: string; message: string }>('/sandbox/api/order-status', { number: delivered.number, status: 'created' });
    expect(refused.status).toBe(409);
    expect(refused.json.message).toMatch(/from delivered to created/);
    expect((await ordersOf(person)).find((o) => o.number === delivered.number)!.status).toBe('delivered');

    const created = orders.find((o) => o.status === 'created')!;
    expect(created.paymentStatus).toBe('pending');
    expect((await call('/sandbox/api/order-status', { number: created.number, status: 'paid' })).status).toBe(200);
    const paid = (await ordersOf(person)).find((o) => o.number === created.number)!;
    expect(paid).toMatchObject({ status: 'paid', paymentStatus: 'paid' });
    expect(paid.next).toEqual(['assembling', 'cancelled']);
    expect((await call('/sandbox/api/order-status', { number: created.number, status: 'cancelled' })).status).toBe(200);
    expect((await ordersOf(person)).find((o) => o.number === created.number)).toMatchObject({ status: 'cancelled', paymentStatus: 'refunded', next: [] });
  });

  it('restocks a product and drops a price through the shop API, and the alerts reach the customer', async () => {
    const person = 'telegram:1001'; // logged in above
    const { json } = await call<{ products: Array<{ sku: string; name: string; stock: number; price: string; alerts: string[] }> }>(`/sandbox/api/products?person=${person}`);
    const soldOut = json.products.find((p) => p.stock === 0 && p.alerts.includes('back_in_stock'))!;
    const watched = json.products.find((p) => p.alerts.includes('price_drop'))!;
    const before = (await chatOf(person)).messages.length;

    expect((await call(`/sandbox/api/products/${soldOut.sku}/restock`, { quantity: 5 })).status).toBe(200);
    const product = await run.ctx.prisma.product.findUniqueOrThrow({ where: { sku: soldOut.sku } });
    expect(product.stock).toBe(5);
    await waitForChat(person, (c) => c.messages.slice(before).some((m) => m.from === 'bot' && m.text.includes(soldOut.name)));

    expect((await call(`/sandbox/api/products/${watched.sku}/price-drop`, { percent: 20 })).status).toBe(200);
    const dropped = await run.ctx.prisma.product.findUniqueOrThrow({ where: { sku: watched.sku } });
    expect(Number(dropped.price)).toBe(Math.floor(Number(watched.price) * 0.8));
    expect(Number(dropped.oldPrice)).toBe(Number(watched.price));
    await waitForChat(person, (c) => c.messages.slice(before).some((m) => m.from === 'bot' && m.text.includes(watched.name) && !m.text.includes(soldOut.name)));
  });

  it('accepts only signed webhooks at the demo shop', async () => {
    const body = JSON.stringify({ id: 'forged', type: 'customer.linked', createdAt: new Date().toISOString(), data: {} });
    const forged = await fetch(`${base}${SANDBOX_SHOP_WEBHOOK_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', 'kabinet-signature': signPayload('wrong-secret', body) }, body });
    expect(forged.status).toBe(401);
    const signed = await fetch(`${base}${SANDBOX_SHOP_WEBHOOK_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', 'kabinet-signature': signPayload(run.sandbox.shopSecret, 'not json') }, body: 'not json' });
    expect(signed.status).toBe(400);
    const { json } = await call<{ webhooks: Array<{ id: string }> }>('/sandbox/api/webhooks');
    expect(json.webhooks.some((w) => w.id === 'forged')).toBe(false);
  });
});

describe('sandbox reset', () => {
  it('answers on VK through the same brain', async () => {
    const person = 'vk:503';
    await call('/sandbox/api/send', { person, text: '/start' });
    const chat = await waitForChat(person, (c) => c.messages.some((m) => m.from === 'bot'));
    expect(chat.messages.at(-1)!.text).toMatch(/Kabinet Demo Shop/);
  });

  it('goes back to a clean demo: seeded data, no chats, no SMS, nobody logged in', async () => {
    expect((await chatOf('telegram:1001')).messages.length).toBeGreaterThan(0);
    const prefix = run.ctx.config.redisKeyPrefix;
    const stateKeys = async () => [...(await run.ctx.redis.keys(`${prefix}bot:*:session:*`)), ...(await run.ctx.redis.keys(`${prefix}otp:*`))];
    await run.sandbox.sms.send({ to: '+79990000003', text: 'x', code: '000000' });
    await run.ctx.redis.set(`${prefix}otp:cooldown:test`, '1');
    expect((await stateKeys()).length).toBeGreaterThan(1);
    const reset = await call('/sandbox/api/reset', {});
    expect(reset.status).toBe(200);
    expect((await chatOf('telegram:1001')).messages).toEqual([]);
    expect((await chatOf('vk:503')).messages).toEqual([]);
    expect((await call<{ sms: unknown[] }>('/sandbox/api/sms')).json.sms).toEqual([]);
    expect(await run.ctx.prisma.channelIdentity.count()).toBe(0);
    expect(await stateKeys()).toEqual([]);
    const orders = await ordersOf('telegram:1002');
    expect(orders.find((o) => o.number === 'K-20001')).toMatchObject({ status: 'created', paymentStatus: 'pending' });
    // The bot works after a reset: a fresh login.
    await loginOnTelegram('telegram:1001');
  });
});
