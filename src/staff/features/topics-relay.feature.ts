/**
 * Topics and relay: an operator's message in a conversation's topic goes to the customer; a
 * message starting with "//" (or "/note ...") stays in the topic as a private note. The answer
 * is stored and queued here; the operator-reply worker delivers it (files are taken as the
 * staff bot received them and re-uploaded for the customer's messenger).
 */
import { Composer } from 'telegraf';
import type { Message } from 'telegraf/types';
import type { Attachment } from '../../domain/support/support.service.js';
import type { StaffContext, StaffKit } from '../context.js';
import { refusal, topicOf } from './helpers.js';

/** The files of a Telegram message, as support attachments of the staff bot. */
export function attachmentsOf(message: Message): Attachment[] {
  const m = message as Message & Record<string, unknown>;
  const out: Attachment[] = [];
  const file = (kind: Attachment['kind'], value: unknown) => {
    const v = value as { file_id?: string; file_name?: string; mime_type?: string; file_size?: number } | undefined;
    if (v?.file_id) out.push({ kind, source: 'staff', ref: v.file_id, fileName: v.file_name, mimeType: v.mime_type, size: v.file_size });
  };
  if (Array.isArray(m.photo) && m.photo.length > 0) file('photo', m.photo[m.photo.length - 1]);
  if (m.animation) file('animation', m.animation);
  else if (m.document) file('document', m.document);
  for (const kind of ['voice', 'audio', 'video', 'video_note', 'sticker'] as const) if (m[kind]) file(kind, m[kind]);
  return out;
}

const NOTE = /^(?:\/\/|\/note(?:@\w+)?(?:\s|$))/i;

export function topicsRelayFeature(kit: StaffKit) {
  const { support, poster, replyQueue } = kit.services;
  const composer = new Composer<StaffContext>();
  composer.on('message', async (ctx, next) => {
    const topic = topicOf(ctx);
    const message = ctx.message;
    // Service messages (topic created / closed ...) and the General topic are not conversations.
    if (!topic || 'forum_topic_created' in message || 'forum_topic_closed' in message || 'forum_topic_reopened' in message || 'forum_topic_edited' in message) return next();
    const conversation = await support.byTopic(topic.chatId, topic.threadId);
    if (!conversation) return next();
    const raw = 'text' in message ? message.text : 'caption' in message ? (message.caption ?? '') : '';
    const attachments = attachmentsOf(message);
    if (!raw && attachments.length === 0) {
      await poster.notice(conversation.id, 'unsupported_content');
      return;
    }
    // Another bot command in a topic is not an answer for the customer.
    if (/^\/(?!note\b)\w/.test(raw)) return next();
    const note = NOTE.test(raw);
    const text = note ? raw.replace(NOTE, '').trim() : raw;
    try {
      const written = await support.operatorWrites(conversation.id, ctx.staff, { text, attachments, note, staffMessageId: String(message.message_id) });
      if (written.note) return;
      // Stored (pending) first; delivered by the worker role, in order, surviving a crash
      // (operator-reply.queue.ts). If this add is lost, the sweeper queues the answer again.
      await replyQueue.reply(conversation.id, written.messageId);
      if (written.tookIt) await poster.refresh(conversation.id);
    } catch (err) {
      const line = refusal(ctx, err);
      if (!line) throw err;
      await poster.post({ chatId: topic.chatId, threadId: Number(topic.threadId), text: line });
    }
  });
  return composer;
}
