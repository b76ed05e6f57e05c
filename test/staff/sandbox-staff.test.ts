/**
 * The sandbox's staff view: Kabinet (web + worker) against its own fakes with a staff group and
 * a demo operator; the staff routes driven with app.inject the way staff.js drives them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed } from '../../prisma/seed.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { createWeb, type Web } from '../../src/web.js';
import { createWorkerRole, type WorkerRole } from '../../src/worker.js';
import { eventually } from '../bot/harness.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { freePort } from '../support/net.js';

let ctx: TestContext;
let sandbox: Sandbox;
let web: Web;
let worker: WorkerRole;

beforeAll(async () => {
  sandbox = await startSandbox();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  ctx = await createTestContext({ env: { ...sandbox.env(base), PORT: String(port) } });
  await seed(ctx.prisma, ctx.config);
  web = await createWeb(ctx, { sandbox });
  await web.start();
  await sandbox.connect(base);
  worker = await createWorkerRole(ctx, { sandbox });
  await worker.start();
}, 60_000);

afterAll(async () => {
  await web?.stop();
  await worker?.stop();
  await ctx?.close();
  await sandbox?.close();
});

const get = async <T>(url: string) => {
  const res = await web.app.inject({ method: 'GET', url });
  return { status: res.statusCode, json: res.json() as T };
};
const post = async (url: string, payload: unknown) => {
  const res = await web.app.inject({ method: 'POST', url, payload: payload as Record<string, unknown> });
  return { status: res.statusCode, json: res.json() as Record<string, unknown> };
};

interface Topic { threadId: number; name: string; closed: boolean; conversationId: string | null; status: string | null }
interface Msg { id: number; from: string; kind: string; text: string; buttons: Array<Array<{ label: string; data: string | null }>> }

describe('sandbox staff view', () => {
  it('shows a customer’s topic with the card, and the demo operator takes, answers, notes and closes', async () => {
    const script = await web.app.inject({ method: 'GET', url: '/sandbox/staff.js' });
    expect(script.headers['content-type']).toContain('javascript');
    expect(script.body).toContain('export function mount(container, api)');

    const anna = sandbox.people.find((p) => p.key === 'telegram:1001')!;
    const token = sandbox.telegramToken;
    sandbox.telegram.sendText(token, anna.userId, '/help');
    // The webhook answers once the update is recorded; the worker replies after.
    await eventually(() => (sandbox.telegram.lastBotMessage(token, anna.userId)?.reply_markup?.inline_keyboard.flat() ?? []).some((b) => b.text.includes('человеком')));
    const help = sandbox.telegram.lastBotMessage(token, anna.userId)!;
    const human = help.reply_markup!.inline_keyboard.flat().find((b) => b.text.includes('человеком'))!;
    sandbox.telegram.pressButton(token, anna.userId, help.message_id, human.callback_data!);
    await sandbox.telegram.waitForDelivery(token);
    sandbox.telegram.sendText(token, anna.userId, 'Когда приедет заказ?');
    await sandbox.telegram.waitForDelivery(token);

    let topic: Topic | undefined;
    await eventually(async () => {
      topic = (await get<{ topics: Topic[] }>('/sandbox/api/staff/topics')).json.topics.find((t) => t.name.includes('Анна'));
      return topic?.conversationId !== undefined && topic.conversationId !== null;
    }, 1500);
    expect(topic!.name).toContain('Telegram');
    const messages = async () => (await get<{ messages: Msg[] }>(`/sandbox/api/staff/topics/${topic!.threadId}/messages`)).json.messages;
    await eventually(async () => (await messages()).some((m) => m.text.includes('Когда приедет заказ?')), 1500);
    const card = (await messages()).find((m) => m.buttons.length > 0)!;
    const take = card.buttons.flat().find((b) => b.label.includes('Взять'))!;
    expect((await post('/sandbox/api/staff/press', { messageId: card.id, data: take.data })).status).toBe(200);
    await eventually(async () => (await messages()).some((m) => m.text.includes('Оля Оператор взял(а) диалог')), 1500);

    expect((await post('/sandbox/api/staff/send', { threadId: topic!.threadId, text: 'Завтра до 18:00' })).status).toBe(200);
    await eventually(() => (sandbox.telegram.lastBotMessage(token, anna.userId)?.text ?? '').includes('Завтра до 18:00'));
    expect((await post('/sandbox/api/staff/send', { threadId: topic!.threadId, text: 'постоянный клиент', note: true })).status).toBe(200);
    await sandbox.telegram.waitForDelivery(sandbox.staff.token);
    await eventually(async () => (await ctx.prisma.supportMessage.count({ where: { conversationId: topic!.conversationId!, isPrivateNote: true, text: 'постоянный клиент' } })) === 1);
    expect(sandbox.telegram.lastBotMessage(token, anna.userId)?.text).not.toContain('постоянный клиент');

    const current = (await messages()).find((m) => m.id === card.id)!;
    const close = current.buttons.flat().find((b) => b.label.includes('Закрыть'))!;
    expect((await post('/sandbox/api/staff/press', { messageId: card.id, data: close.data })).status).toBe(200);
    await eventually(() => (sandbox.telegram.lastBotMessage(token, anna.userId)?.text ?? '').includes('Оцените'));
    await eventually(async () => (await get<{ topics: Topic[] }>('/sandbox/api/staff/topics')).json.topics.some((t) => t.threadId === topic!.threadId && t.closed), 1500);
  }, 60_000);

  it('refuses bad input with a clear 4xx', async () => {
    expect((await post('/sandbox/api/staff/send', { threadId: 999_999, text: 'x' })).status).toBe(404);
    expect((await post('/sandbox/api/staff/send', { threadId: 1, text: '' })).status).toBe(400);
    expect((await post('/sandbox/api/staff/press', { messageId: 999_999, data: 'st:take:x' })).status).toBe(409);
    expect((await get('/sandbox/api/staff/topics/abc/messages')).status).toBe(400);
  });
});
