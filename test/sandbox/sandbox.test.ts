/**
 * The sandbox end to end: Kabinet (web + worker) against its own fake Telegram and VK, driven
 * through the page's JSON API the way the browser page drives it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../prisma/seed.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { createWeb, type Web } from '../../src/web.js';
import { createWorkerRole, type WorkerRole } from '../../src/worker.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { freePort } from '../support/net.js';


let ctx: TestContext;
let sandbox: Sandbox;
let web: Web;
let worker: WorkerRole;
let base: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  ctx = await createTestContext({ env: { ...sandbox.env(base), PORT: String(port) } });
  await seed(ctx.prisma, ctx.config);
  web = await createWeb(ctx, { sandbox });
  await web.start();
  await sandbox.connect(base);
  worker = await createWorkerRole(ctx, { sandbox });
  await worker.start();
});

afterAll(async () => {
  await web?.stop();
  await worker?.stop();
  await ctx?.close();
  await sandbox?.close();
});

async function call<T = Record<string, unknown>>(path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${base}${path}`, body ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {});
  return { status: res.status, json: (await res.json()) as T };
}

interface Chat { messages: Array<{ id: number; from: string; text: string; inline: Array<Array<{ label: string; kind: string; data?: string }>> }>; keyboard: Array<Array<{ label: string; kind: string }>>; sms: Array<{ text: string }> }

async function waitForChat(person: string, predicate: (chat: Chat) => boolean): Promise<Chat> {
  let last: Chat | undefined;
  for (let i = 0; i < 100; i++) {
    last = (await call<Chat>(`/sandbox/api/chat?person=${person}`)).json;
    if (predicate(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`chat of ${person} never matched; last: ${JSON.stringify(last?.messages.slice(-2))}`);
}

describe('sandbox', () => {
  it('serves the chat page and redirects / to it', async () => {
    const page = await fetch(`${base}/sandbox`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('Kabinet sandbox');
    const root = await fetch(`${base}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
  });

  it('lets a demo customer log in on Telegram and watch an order status change arrive', async () => {
    const person = 'telegram:1001';
    await call('/sandbox/api/send', { person, text: '/start' });
    // The greeting brings the share-number button: one tap logs in. Its label shows one icon.
    const asked = await waitForChat(person, (c) => c.keyboard.flat().some((b) => b.kind === 'contact'));
    expect(asked.keyboard.flat().find((b) => b.kind === 'contact')!.label).toBe('📱 Поделиться номером');
    await call('/sandbox/api/press', { person, kind: 'contact', label: asked.keyboard.flat().find((b) => b.kind === 'contact')!.label });
    await waitForChat(person, (c) => c.messages.some((m) => m.from === 'bot' && /вошли/i.test(m.text)));

    const { json: orders } = await call<{ orders: Array<{ number: string; status: string }> }>(`/sandbox/api/orders?person=${person}`);
    const order = orders.orders.find((o) => o.status === 'assembling')!;
    const changed = await call('/sandbox/api/order-status', { number: order.number, status: 'shipped' });
    expect(changed.status).toBe(200);
    const chat = await waitForChat(person, (c) => c.messages.some((m) => m.from === 'bot' && m.text.includes(order.number)));
    expect(chat.messages.find((m) => m.text.includes(order.number))!.inline.flat().some((b) => b.kind === 'url')).toBe(true);
  });

  it('answers on VK through the same brain', async () => {
    const person = 'vk:503';
    await call('/sandbox/api/send', { person, text: '/start' });
    const chat = await waitForChat(person, (c) => c.messages.some((m) => m.from === 'bot'));
    expect(chat.messages.at(-1)!.text).toMatch(/Kabinet Demo Shop/);
  });

  it('refuses unknown people and stale buttons with a clear 4xx', async () => {
    expect((await call('/sandbox/api/send', { person: 'telegram:999', text: 'hi' })).status).toBe(404);
    expect((await call('/sandbox/api/press', { person: 'telegram:1002', kind: 'callback', label: 'x', data: 'o:list:0', messageId: 999 })).status).toBe(409);
    expect((await call('/sandbox/api/send', { person: 'telegram:1001' })).status).toBe(400);
    expect((await call('/sandbox/api/order-status', { number: 'NO-SUCH', status: 'shipped' })).status).toBe(404);
  });
});
