/**
 * The sandbox's staff view: the staff group as the demo operator sees it (its topics, a
 * topic's messages with the customer card and its buttons) and the operator's hands (write,
 * write a "//" note, press a button). Everything goes through the fake Telegram, so the staff
 * bot sees exactly what Telegram would send it. The page module is /sandbox/staff.js.
 */
import { readFileSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { DomainError } from '../errors.js';
import type { PrismaClient } from '../infra/prisma.js';
import type { Sandbox } from './sandbox.js';

export interface StaffSandboxOptions {
  sandbox: Sandbox;
  prisma: PrismaClient;
}

const SCRIPT = readFileSync(new URL('./public/staff.js', import.meta.url), 'utf8');
const KINDS = ['photo', 'document', 'voice', 'audio', 'video', 'video_note', 'animation', 'sticker'] as const;

interface TopicView {
  threadId: number;
  name: string;
  closed: boolean;
  conversationId: string | null;
  status: string | null;
  lastAt: number;
}

export const staffSandboxPlugin: FastifyPluginAsync<StaffSandboxOptions> = async (app, { sandbox, prisma }) => {
  const { telegram: fake, staff } = sandbox;
  const chatId = staff.groupId;
  const log = () => fake.chat(staff.token, chatId);

  app.get('/sandbox/staff.js', { schema: { hide: true } }, async (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-store').send(SCRIPT));

  app.get('/sandbox/api/staff', { schema: { hide: true } }, async () => ({ group: { id: chatId, title: 'Kabinet — поддержка' }, operator: staff.operator }));

  app.get('/sandbox/api/staff/topics', { schema: { hide: true } }, async () => {
    const topics = new Map<number, TopicView>();
    for (const m of log()) {
      if (m.threadId === undefined) continue;
      const created = m.message.forum_topic_created;
      const topic = topics.get(m.threadId) ?? { threadId: m.threadId, name: created?.name ?? `#${m.threadId}`, closed: false, conversationId: null, status: null, lastAt: 0 };
      if (m.message.forum_topic_edited?.name) topic.name = m.message.forum_topic_edited.name;
      if (m.message.forum_topic_closed) topic.closed = true;
      if (m.message.forum_topic_reopened) topic.closed = false;
      topic.lastAt = Math.max(topic.lastAt, m.message.date);
      topics.set(m.threadId, topic);
    }
    const conversations = await prisma.supportConversation.findMany({ where: { staffChatId: String(chatId), staffThreadId: { in: [...topics.keys()].map(String) } }, select: { id: true, status: true, staffThreadId: true } });
    for (const c of conversations) {
      const topic = topics.get(Number(c.staffThreadId));
      if (topic) Object.assign(topic, { conversationId: c.id, status: c.status });
    }
    return { topics: [...topics.values()].sort((a, b) => b.lastAt - a.lastAt) };
  });

  app.get('/sandbox/api/staff/topics/:threadId/messages', {
    schema: { hide: true, params: Type.Object({ threadId: Type.String({ pattern: '^[1-9][0-9]{0,9}$' }) }) },
  }, async (req) => {
    const threadId = Number((req.params as { threadId: string }).threadId);
    const messages = log()
      .filter((m) => m.threadId === threadId && !m.message.forum_topic_created && !m.message.forum_topic_edited)
      .map((m) => {
        const kind = KINDS.find((k) => m.message[k] !== undefined) ?? (m.message.forum_topic_closed ? 'closed' : m.message.forum_topic_reopened ? 'reopened' : 'text');
        const buttons = (m.message.reply_markup?.inline_keyboard ?? []).map((row) => row.map((b) => ({ label: b.text, data: b.callback_data ?? null })));
        return {
          id: m.messageId,
          from: m.direction === 'out' ? 'bot' : 'operator',
          author: m.from ? [m.from.first_name, m.from.last_name].filter(Boolean).join(' ') : null,
          kind,
          text: m.text ?? m.caption ?? '',
          html: m.direction === 'out' && m.message.entities !== undefined,
          buttons,
          date: m.message.date,
        };
      });
    return { messages };
  });

  app.post('/sandbox/api/staff/send', {
    schema: { hide: true, body: Type.Object({ threadId: Type.Integer({ minimum: 1 }), text: Type.String({ minLength: 1, maxLength: 4096 }), note: Type.Optional(Type.Boolean()) }) },
  }, async (req) => {
    const body = req.body as { threadId: number; text: string; note?: boolean };
    try {
      fake.sendText(staff.token, staff.operator.id, body.note ? `// ${body.text}` : body.text, { chatId, threadId: body.threadId });
    } catch (err) {
      throw new DomainError('not_found', (err as Error).message);
    }
    return { ok: true };
  });

  app.post('/sandbox/api/staff/press', {
    schema: { hide: true, body: Type.Object({ messageId: Type.Integer({ minimum: 1 }), data: Type.String({ minLength: 1, maxLength: 64 }) }) },
  }, async (req) => {
    const body = req.body as { messageId: number; data: string };
    try {
      fake.pressButton(staff.token, staff.operator.id, body.messageId, body.data, { chatId });
    } catch (err) {
      // A button the topic no longer shows: the page is stale, not the server broken.
      throw new DomainError('conflict', (err as Error).message);
    }
    return { ok: true };
  });
};
