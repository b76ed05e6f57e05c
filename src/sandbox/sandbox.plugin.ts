/**
 * The sandbox's browser page and its small JSON API: chat as a demo person in Telegram or
 * VK (through the fake servers, so the bot sees exactly what real platforms would send),
 * read "SMS" login codes, and play the shop: change an order's status through the real,
 * signed shop API and watch the notification arrive.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { DomainError } from '../errors.js';
import type { PrismaClient } from '../infra/prisma.js';
import { signRequest } from '../lib/signature.js';
import type { Sandbox, SandboxPerson } from './sandbox.js';

export interface SandboxPluginOptions {
  sandbox: Sandbox;
  prisma: PrismaClient;
}

interface ViewButton { label: string; kind: 'callback' | 'url' | 'text' | 'contact'; data?: string; url?: string }
interface ViewMessage { id: number; from: 'user' | 'bot'; text: string; inline: ViewButton[][] }
interface ChatView { messages: ViewMessage[]; keyboard: ViewButton[][] }

const PAGE = readFileSync(new URL('./public/index.html', import.meta.url), 'utf8');
const STATUSES = ['created', 'confirmed', 'paid', 'assembling', 'shipped', 'ready_for_pickup', 'delivered', 'cancelled', 'returned'] as const;

function personOf(sandbox: Sandbox, key: string): SandboxPerson {
  const person = sandbox.people.find((p) => p.key === key);
  if (!person) throw new DomainError('not_found', `No sandbox person ${key}`);
  return person;
}

function telegramChat(sandbox: Sandbox, person: SandboxPerson): ChatView {
  const entries = sandbox.telegram.chat(sandbox.telegramToken, person.userId);
  let keyboard: ViewButton[][] = [];
  const messages = entries.map((e): ViewMessage => {
    const markup = e.replyMarkup as Record<string, unknown> | undefined;
    const inline = ((markup?.inline_keyboard as Array<Array<Record<string, string>>> | undefined) ?? []).map((row) =>
      row.map((b): ViewButton => (b.url ? { label: b.text!, kind: 'url', url: b.url } : { label: b.text!, kind: 'callback', data: b.callback_data! })),
    );
    if (e.direction === 'out' && markup?.keyboard) {
      keyboard = (markup.keyboard as Array<Array<Record<string, unknown> | string>>).map((row) =>
        row.map((b): ViewButton => {
          const text = typeof b === 'string' ? b : String(b.text);
          return typeof b !== 'string' && b.request_contact ? { label: text, kind: 'contact' } : { label: text, kind: 'text' };
        }),
      );
    }
    if (e.direction === 'out' && markup?.remove_keyboard) keyboard = [];
    return { id: e.messageId, from: e.direction === 'in' ? 'user' : 'bot', text: e.text ?? e.caption ?? (e.message.contact ? `📱 ${e.message.contact.phone_number}` : ''), inline };
  });
  return { messages, keyboard };
}

function vkChat(sandbox: Sandbox, person: SandboxPerson): ChatView {
  const conversation = sandbox.vk.conversation(sandbox.vkGroupId, person.userId);
  const toButtons = (rows: Array<Array<{ type: string; label?: string; link?: string; payload?: string }>>) =>
    rows.map((row) => row.map((b): ViewButton => (b.type === 'open_link' ? { label: b.label ?? '', kind: 'url', url: b.link! } : { label: b.label ?? '', kind: b.type === 'callback' ? 'callback' : 'text', data: b.label ?? '' })));
  const messages = conversation.messages
    .filter((m) => !m.deleted)
    .map((m): ViewMessage => ({ id: m.conversationMessageId, from: m.out ? 'bot' : 'user', text: m.text, inline: m.keyboard?.inline ? toButtons(m.keyboard.buttons) : [] }));
  return { messages, keyboard: conversation.keyboard ? toButtons(conversation.keyboard.buttons) : [] };
}

export const sandboxPlugin: FastifyPluginAsync<SandboxPluginOptions> = async (app, { sandbox, prisma }) => {
  const Key = Type.String({ minLength: 3, maxLength: 40 });

  app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/sandbox'));
  app.get('/sandbox', { schema: { hide: true } }, async (_req, reply) => reply.type('text/html; charset=utf-8').send(PAGE));

  app.get('/sandbox/api/people', { schema: { hide: true } }, async () => ({ people: sandbox.people }));

  app.get('/sandbox/api/chat', { schema: { hide: true, querystring: Type.Object({ person: Key }) } }, async (req) => {
    const person = personOf(sandbox, (req.query as { person: string }).person);
    const chat = person.platform === 'telegram' ? telegramChat(sandbox, person) : vkChat(sandbox, person);
    return { ...chat, sms: sandbox.sms.inbox(person.phone).map((m) => ({ text: m.text, at: m.at })) };
  });

  app.post('/sandbox/api/send', { schema: { hide: true, body: Type.Object({ person: Key, text: Type.String({ minLength: 1, maxLength: 4000 }) }) } }, async (req) => {
    const { person: key, text } = req.body as { person: string; text: string };
    const person = personOf(sandbox, key);
    if (person.platform === 'telegram') sandbox.telegram.sendText(sandbox.telegramToken, person.userId, text);
    else sandbox.vk.sendText(sandbox.vkGroupId, person.userId, text);
    return { ok: true };
  });

  app.post('/sandbox/api/press', {
    schema: { hide: true, body: Type.Object({ person: Key, kind: Type.Union([Type.Literal('callback'), Type.Literal('text'), Type.Literal('contact')]), label: Type.String({ maxLength: 200 }), messageId: Type.Optional(Type.Integer()), data: Type.Optional(Type.String({ maxLength: 300 })) }) },
  }, async (req) => {
    const body = req.body as { person: string; kind: ViewButton['kind']; label: string; messageId?: number; data?: string };
    const person = personOf(sandbox, body.person);
    try {
      if (person.platform === 'telegram') {
        if (body.kind === 'contact') {
          const [firstName] = person.name.split(' ');
          sandbox.telegram.sendContact(sandbox.telegramToken, person.userId, { phone: person.phone, firstName: firstName! });
        } else if (body.kind === 'callback') {
          sandbox.telegram.pressButton(sandbox.telegramToken, person.userId, body.messageId ?? 0, body.data ?? '');
        } else sandbox.telegram.sendText(sandbox.telegramToken, person.userId, body.label);
      } else {
        sandbox.vk.pressButton(sandbox.vkGroupId, person.userId, body.label, body.messageId ? { conversationMessageId: body.messageId } : {});
      }
    } catch (err) {
      // A button the chat no longer shows: the page is stale, not the server broken.
      throw new DomainError('conflict', (err as Error).message);
    }
    return { ok: true };
  });

  app.get('/sandbox/api/orders', { schema: { hide: true, querystring: Type.Object({ person: Key }) } }, async (req) => {
    const person = personOf(sandbox, (req.query as { person: string }).person);
    const orders = await prisma.order.findMany({
      where: { customer: { phone: person.phone } },
      orderBy: { placedAt: 'desc' },
      take: 12,
      select: { number: true, status: true, total: true, placedAt: true },
    });
    return { statuses: STATUSES, orders: orders.map((o) => ({ ...o, total: o.total.toString() })) };
  });

  // The shop panel: the same signed request a shop's backend sends.
  app.post('/sandbox/api/order-status', {
    schema: { hide: true, body: Type.Object({ number: Type.String({ minLength: 1, maxLength: 64 }), status: Type.Union(STATUSES.map((s) => Type.Literal(s))) }) },
  }, async (req, reply) => {
    const { number, status } = req.body as { number: string; status: string };
    const shipping = ['shipped', 'ready_for_pickup', 'delivered'].includes(status);
    const body = JSON.stringify({
      eventId: `sandbox-${randomUUID()}`,
      status,
      occurredAt: new Date().toISOString(),
      ...(shipping ? { carrier: 'СДЭК', trackingNumber: `SB${Date.now() % 1e9}`, trackingUrl: 'https://www.cdek.ru/ru/tracking' } : {}),
    });
    const url = `/api/v1/orders/${encodeURIComponent(number)}/status`;
    const res = await app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', 'kabinet-signature': signRequest(sandbox.shopSecret, { method: 'POST', path: url, body }) },
      payload: body,
    });
    return reply.status(res.statusCode).type('application/json').send(res.body);
  });
};
