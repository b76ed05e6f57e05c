/**
 * Support conversations between a customer and operators: open / reopen, messages both ways
 * (with direction, author and delivery status), private notes, take / release / reassign,
 * close and rating, and the sweeps for auto-replies and reminders. Plain ids in, plain
 * objects out; no bot or HTTP code. Every state change that the shop cares about writes its
 * webhook in the same transaction (support.requested / .message / .closed / .rated).
 */
import { DomainError } from '../../errors.js';
import type { Clock } from '../../infra/clock.js';
import type { PrismaClient } from '../../infra/prisma.js';
import { noOutboxDispatch, transactionWithOutbox, type OutboxDispatcher } from '../../outbox/enqueue.js';
import type { Prisma } from '../../generated/prisma/client.js';

export const SUPPORT_TEXT_MAX = 4000;
export const RATING_COMMENT_MAX = 1000;
export const MAX_ATTACHMENTS = 10;

export type AttachmentKind = 'photo' | 'document' | 'voice' | 'audio' | 'video' | 'video_note' | 'animation' | 'sticker';
export const ATTACHMENT_KINDS: readonly AttachmentKind[] = ['photo', 'document', 'voice', 'audio', 'video', 'video_note', 'animation', 'sticker'];

/** A file in a message: a Telegram file_id of the bot that received it, or a VK download URL. */
export interface Attachment {
  kind: AttachmentKind;
  /** Which platform `ref` belongs to: 'telegram' (customer bot), 'vk' (URL), 'staff' (staff bot file_id). */
  source: 'telegram' | 'vk' | 'staff';
  ref: string;
  fileName?: string | undefined;
  mimeType?: string | undefined;
  size?: number | undefined;
}

export interface MessageInput {
  text?: string | undefined;
  attachments?: Attachment[] | undefined;
}

export interface StaffRef {
  id: string;
  name: string;
  role: 'operator' | 'admin';
}

export type ConversationStatus = 'waiting' | 'with_operator' | 'closed';

export interface CustomerWriteResult {
  conversationId: string;
  messageId: string;
  /** A new conversation, or a closed one opened again: it needs a (re)opened topic. */
  opened: boolean;
  /** The message joined an open conversation. */
  reused: boolean;
}

/** An operator's answer still to be delivered, with everything delivery needs. */
export interface PendingReply {
  conversationId: string;
  messageId: string;
  /** Who wrote it ("<name> answered"); empty when the staff member was deleted. */
  staff: { name: string };
  /** The first answer of this round: the customer is told who answered. */
  firstAnswer: boolean;
  recipient: Recipient;
  text: string | null;
  attachments: Attachment[];
}

export interface Recipient {
  identityId: string;
  platform: 'telegram' | 'vk';
  chatId: string;
  language: string;
  blocked: boolean;
}

/** Strips what PostgreSQL text cannot hold (NUL) and other C0 controls except tab and newlines. */
export function cleanText(value: string | undefined | null): string {
  // eslint-disable-next-line no-control-regex
  return (value ?? '').replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '').replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '').trim();
}

function validMessage(input: MessageInput): { text: string | null; attachments: Attachment[] } {
  const text = cleanText(input.text);
  const attachments = (input.attachments ?? []).filter((a) => ATTACHMENT_KINDS.includes(a.kind) && typeof a.ref === 'string' && a.ref.length > 0 && a.ref.length <= 2048);
  if (!text && attachments.length === 0) throw new DomainError('invalid_input', 'Message is empty', { field: 'text' });
  if (text.length > SUPPORT_TEXT_MAX) throw new DomainError('invalid_input', 'Message is too long', { field: 'text', max: SUPPORT_TEXT_MAX });
  if (attachments.length > MAX_ATTACHMENTS) throw new DomainError('invalid_input', 'Too many attachments', { field: 'attachments', max: MAX_ATTACHMENTS });
  return { text: text || null, attachments: attachments.map((a) => ({ ...a, fileName: a.fileName ? cleanText(a.fileName).slice(0, 200) : undefined })) };
}

const OPEN: ConversationStatus[] = ['waiting', 'with_operator'];

export function createSupportService(deps: { prisma: PrismaClient; clock: Clock; outbox?: OutboxDispatcher }) {
  const { prisma, clock } = deps;
  const outbox = deps.outbox ?? noOutboxDispatch;
  const tx = <R>(work: Parameters<typeof transactionWithOutbox<R>>[2]) => transactionWithOutbox(prisma, outbox, work);

  async function conversationOrThrow(client: Prisma.TransactionClient | PrismaClient, id: string) {
    const conversation = await client.supportConversation.findUnique({ where: { id } });
    if (!conversation) throw new DomainError('not_found', 'Conversation not found');
    return conversation;
  }

  /**
   * The customer writes. With `open` ("talk to a person") a conversation is opened, or the
   * customer's last one is opened again; without it the message only joins an open one, and
   * null means there is none (the bot handles the text as usual).
   */
  async function customerWrites(identityId: string, input: MessageInput, options: { open: boolean }): Promise<CustomerWriteResult | null> {
    const { text, attachments } = validMessage(input);
    return tx(async ({ tx, emit }) => {
      const identity = await tx.channelIdentity.findUnique({ where: { id: identityId } });
      if (!identity) throw new DomainError('not_found', 'Identity not found');
      const now = clock.now();
      const last = await tx.supportConversation.findFirst({ where: { identityId }, orderBy: { createdAt: 'desc' } });
      const isOpen = last !== null && OPEN.includes(last.status);
      if (!isOpen && !options.open) return null;
      let conversation;
      let opened = false;
      if (isOpen) {
        conversation = await tx.supportConversation.update({ where: { id: last.id }, data: { lastMessageAt: now, lastInboundAt: now } });
      } else if (last) {
        opened = true;
        conversation = await tx.supportConversation.update({
          where: { id: last.id },
          data: {
            status: last.assigneeId ? 'with_operator' : 'waiting',
            customerId: identity.customerId ?? last.customerId,
            closedAt: null,
            closedBy: null,
            answeredAt: null,
            autoRepliedAt: null,
            remindedAt: null,
            lastMessageAt: now,
            lastInboundAt: now,
          },
        });
      } else {
        opened = true;
        conversation = await tx.supportConversation.create({ data: { identityId, customerId: identity.customerId, status: 'waiting', lastMessageAt: now, lastInboundAt: now } });
      }
      const message = await tx.supportMessage.create({
        data: { conversationId: conversation.id, direction: 'inbound', text, attachments: attachments.length ? (attachments as unknown as Prisma.InputJsonValue) : undefined, deliveryStatus: 'pending' },
      });
      const common = { conversationId: conversation.id, messageId: message.id, customerId: identity.customerId, platform: identity.platform, text, attachments: attachments.map((a) => ({ kind: a.kind, fileName: a.fileName ?? null })) };
      if (options.open) await emit('support.requested', { ...common, reused: isOpen });
      else await emit('support.message', { ...common, direction: 'inbound', operator: null });
      return { conversationId: conversation.id, messageId: message.id, opened, reused: isOpen };
    });
  }

  async function recipientOf(client: Prisma.TransactionClient | PrismaClient, identityId: string): Promise<Recipient> {
    const identity = await client.channelIdentity.findUniqueOrThrow({ where: { id: identityId }, include: { customer: { select: { language: true } } } });
    return {
      identityId,
      platform: identity.platform,
      chatId: identity.chatId,
      language: identity.customer?.language ?? identity.languageCode ?? 'ru',
      blocked: identity.blockedAt !== null,
    };
  }

  /** The staff group with the fewest open conversations (new conversations are spread). */
  async function pickStaffChat(chatIds: readonly string[], conversationId = ''): Promise<string> {
    if (chatIds.length === 1) return chatIds[0]!;
    const counts = await prisma.supportConversation.groupBy({ by: ['staffChatId'], where: { status: { in: OPEN }, staffChatId: { in: [...chatIds] } }, _count: { _all: true } });
    const load = new Map(counts.map((c) => [c.staffChatId, c._count._all]));
    const least = Math.min(...chatIds.map((id) => load.get(id) ?? 0));
    // Within one unit of the least loaded, the conversation id decides: a burst of new
    // conversations (all reading the same counts at once) still spreads evenly.
    const candidates = chatIds.filter((id) => (load.get(id) ?? 0) <= least + 1);
    const hash = [...conversationId].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) >>> 0, 7);
    return candidates[hash % candidates.length]!;
  }

  return {
    customerWrites,

    /** "Talk to a person" with one text (kept for callers that have only text). */
    async request(identityId: string, text: string): Promise<{ conversationId: string; reused: boolean }> {
      const result = await customerWrites(identityId, { text }, { open: true });
      return { conversationId: result!.conversationId, reused: result!.reused };
    },

    /** The customer's open conversation, if any. */
    async activeFor(identityId: string): Promise<{ id: string; status: ConversationStatus } | null> {
      const c = await prisma.supportConversation.findFirst({ where: { identityId, status: { in: OPEN } }, orderBy: { createdAt: 'desc' }, select: { id: true, status: true } });
      return c;
    },

    async get(conversationId: string) {
      return conversationOrThrow(prisma, conversationId);
    },

    async recipient(conversationId: string): Promise<Recipient> {
      const c = await conversationOrThrow(prisma, conversationId);
      return recipientOf(prisma, c.identityId);
    },

    /** The conversation shown in a staff topic. */
    async byTopic(staffChatId: string, threadId: string) {
      return prisma.supportConversation.findFirst({ where: { staffChatId, staffThreadId: threadId }, orderBy: { createdAt: 'desc' } });
    },

    /** Messages of the customer not yet posted to the staff topic, oldest first. */
    async pendingInbound(conversationId: string) {
      const rows = await prisma.supportMessage.findMany({ where: { conversationId, direction: 'inbound', deliveryStatus: 'pending' }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
      return rows.map((m) => ({ id: m.id, text: m.text, attachments: (m.attachments ?? []) as unknown as Attachment[], createdAt: m.createdAt }));
    },

    /** Inbound messages now visible in the topic (several merged into one post share its id). */
    async markPosted(messageIds: string[], staffMessageId: string | null, error?: string) {
      if (messageIds.length === 0) return;
      await prisma.supportMessage.updateMany({
        where: { id: { in: messageIds }, deliveryStatus: 'pending' },
        data: error ? { deliveryStatus: 'failed', deliveryError: error.slice(0, 500) } : { deliveryStatus: 'sent', staffMessageId },
      });
    },

    /** Where the conversation lives in the staff group (a new topic replaces a lost one). */
    async setTopic(conversationId: string, topic: { chatId: string; threadId: string; cardMessageId: string | null }) {
      await prisma.supportConversation.update({ where: { id: conversationId }, data: { staffChatId: topic.chatId, staffThreadId: topic.threadId, cardMessageId: topic.cardMessageId } });
    },

    /** Forgets a topic that was deleted by hand; the next post creates a new one. */
    async clearTopic(conversationId: string, threadId: string) {
      await prisma.supportConversation.updateMany({ where: { id: conversationId, staffThreadId: threadId }, data: { staffThreadId: null, cardMessageId: null } });
    },

    /** The conversation's staff group: kept once chosen; a new one goes to the least loaded group. */
    async staffChatFor(conversationId: string, chatIds: readonly string[]): Promise<string> {
      const c = await conversationOrThrow(prisma, conversationId);
      if (c.staffChatId && chatIds.includes(c.staffChatId)) return c.staffChatId;
      const chosen = await pickStaffChat(chatIds, conversationId);
      // A group that left the configuration is replaced (its topic is unreachable now).
      await prisma.supportConversation.updateMany({ where: { id: conversationId, staffChatId: c.staffChatId }, data: { staffChatId: chosen, ...(c.staffChatId ? { staffThreadId: null, cardMessageId: null } : {}) } });
      const after = await conversationOrThrow(prisma, conversationId);
      return after.staffChatId ?? chosen;
    },

    pickStaffChat,


    /**
     * An operator's message in the topic: a private note (kept in the topic, never sent), or
     * an answer for the customer (stored pending; the edge delivers and marks it). The first
     * operator to answer an unassigned conversation takes it.
     */
    async operatorWrites(conversationId: string, staff: StaffRef, input: MessageInput & { note: boolean; staffMessageId: string }) {
      const { text, attachments } = validMessage(input);
      return tx(async ({ tx, emit }) => {
        const c = await conversationOrThrow(tx, conversationId);
        if (c.status === 'closed' && !input.note) throw new DomainError('conflict', 'The conversation is closed', { reason: 'closed' });
        const now = clock.now();
        const message = await tx.supportMessage.create({
          data: {
            conversationId,
            direction: 'outbound',
            authorStaffId: staff.id,
            isPrivateNote: input.note,
            text,
            attachments: attachments.length ? (attachments as unknown as Prisma.InputJsonValue) : undefined,
            deliveryStatus: input.note ? 'sent' : 'pending',
            staffMessageId: input.staffMessageId,
          },
        });
        if (input.note) return { messageId: message.id, text, note: true as const, firstAnswer: false, tookIt: false, recipient: await recipientOf(tx, c.identityId) };
        const tookIt = c.assigneeId === null;
        // Only the first answer of a round claims it: a concurrent second answer sees answeredAt set.
        // answeredAt is that answer's own createdAt, so whoever delivers it later (a queue, after a
        // crash) can tell it was the first (nextPendingReply) without anything else stored.
        const first = await tx.supportConversation.updateMany({ where: { id: conversationId, answeredAt: null }, data: { answeredAt: message.createdAt } });
        await tx.supportConversation.update({
          where: { id: conversationId },
          data: { lastMessageAt: now, status: 'with_operator', ...(tookIt ? { assigneeId: staff.id } : {}) },
        });
        const identity = await tx.channelIdentity.findUniqueOrThrow({ where: { id: c.identityId } });
        await emit('support.message', {
          conversationId,
          messageId: message.id,
          customerId: c.customerId,
          platform: identity.platform,
          text,
          attachments: attachments.map((a) => ({ kind: a.kind, fileName: a.fileName ?? null })),
          direction: 'outbound',
          operator: { id: staff.id, name: staff.name },
        });
        // The text as stored (cleaned): what the customer receives.
        return { messageId: message.id, text, note: false as const, firstAnswer: first.count === 1, tookIt, recipient: await recipientOf(tx, c.identityId) };
      });
    },

    /**
     * The oldest operator answer of the conversation not yet delivered (notes never are), or
     * null. Answers go out one at a time in this order (createdAt, then id: uuid v7 is
     * time-ordered), so two quick answers reach the customer as they were written.
     */
    async nextPendingReply(conversationId: string): Promise<PendingReply | null> {
      const m = await prisma.supportMessage.findFirst({
        where: { conversationId, direction: 'outbound', isPrivateNote: false, deliveryStatus: 'pending' },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        include: { authorStaff: { select: { name: true } }, conversation: { select: { identityId: true, answeredAt: true } } },
      });
      if (!m) return null;
      return {
        conversationId,
        messageId: m.id,
        staff: { name: m.authorStaff?.name ?? '' },
        firstAnswer: m.conversation.answeredAt !== null && m.conversation.answeredAt.getTime() === m.createdAt.getTime(),
        recipient: await recipientOf(prisma, m.conversation.identityId),
        text: m.text,
        attachments: (m.attachments as unknown as Attachment[] | null) ?? [],
      };
    },

    /** Conversations with operator answers still pending after `olderThanSeconds` (a lost delivery job). */
    async stalePendingReplies(olderThanSeconds: number, limit = 100): Promise<string[]> {
      const cutoff = new Date(clock.now().getTime() - olderThanSeconds * 1000);
      const rows = await prisma.supportMessage.findMany({
        where: { direction: 'outbound', isPrivateNote: false, deliveryStatus: 'pending', createdAt: { lte: cutoff } },
        distinct: ['conversationId'],
        select: { conversationId: true },
        take: limit,
      });
      return rows.map((r) => r.conversationId);
    },

    async markDelivered(messageId: string, externalMessageId: string) {
      await prisma.supportMessage.update({ where: { id: messageId }, data: { deliveryStatus: 'sent', externalMessageId, deliveryError: null } });
    },

    /** The platform said the customer blocked the bot: no more sends to this account. */
    async markRecipientBlocked(identityId: string) {
      await prisma.channelIdentity.update({ where: { id: identityId }, data: { blockedAt: clock.now() } });
    },

    async markFailed(messageId: string, error: string) {
      await prisma.supportMessage.update({ where: { id: messageId }, data: { deliveryStatus: 'failed', deliveryError: error.slice(0, 500) } });
    },

    /** Takes an unassigned conversation. Someone else's: conflict (an admin reassigns instead). */
    async take(conversationId: string, staff: StaffRef) {
      const c = await conversationOrThrow(prisma, conversationId);
      if (c.status === 'closed') throw new DomainError('conflict', 'The conversation is closed', { reason: 'closed' });
      if (c.assigneeId === staff.id) return { changed: false };
      const taken = await prisma.supportConversation.updateMany({ where: { id: conversationId, assigneeId: null, status: { in: OPEN } }, data: { assigneeId: staff.id, status: 'with_operator' } });
      if (taken.count === 0) throw new DomainError('conflict', 'Another operator has taken it', { reason: 'taken' });
      return { changed: true };
    },

    /** The assignee (or an admin) lets it go back to the queue. */
    async release(conversationId: string, staff: StaffRef) {
      const c = await conversationOrThrow(prisma, conversationId);
      if (c.assigneeId === null) return { changed: false };
      if (c.assigneeId !== staff.id && staff.role !== 'admin') throw new DomainError('forbidden', 'Only the assignee or an admin can release it');
      await prisma.supportConversation.update({ where: { id: conversationId }, data: { assigneeId: null, ...(c.status === 'with_operator' ? { status: 'waiting' } : {}) } });
      return { changed: true };
    },

    /** Admins give a conversation to another staff member. */
    async reassign(conversationId: string, actor: StaffRef, targetTelegramUserId: string) {
      if (actor.role !== 'admin') throw new DomainError('forbidden', 'Only admins reassign conversations');
      const c = await conversationOrThrow(prisma, conversationId);
      if (c.status === 'closed') throw new DomainError('conflict', 'The conversation is closed', { reason: 'closed' });
      const target = await prisma.staffMember.findUnique({ where: { telegramUserId: targetTelegramUserId } });
      if (!target || !target.isActive) throw new DomainError('not_found', 'No such staff member');
      await prisma.supportConversation.update({ where: { id: conversationId }, data: { assigneeId: target.id, status: 'with_operator' } });
      return { assignee: { id: target.id, name: target.name } };
    },

    /** Closes by an operator or by the customer; the shop hears `support.closed`. */
    async close(conversationId: string, by: { staff: StaffRef } | { identityId: string }) {
      return tx(async ({ tx, emit }) => {
        const c = await conversationOrThrow(tx, conversationId);
        if ('identityId' in by && c.identityId !== by.identityId) throw new DomainError('not_found', 'Conversation not found');
        if (c.status === 'closed') return { changed: false, recipient: await recipientOf(tx, c.identityId) };
        const now = clock.now();
        const closedBy = 'staff' in by ? 'operator' : 'customer';
        const done = await tx.supportConversation.updateMany({ where: { id: conversationId, status: { in: OPEN } }, data: { status: 'closed', closedAt: now, closedBy, rating: null, ratingComment: null, ratedAt: null } });
        if (done.count === 0) return { changed: false, recipient: await recipientOf(tx, c.identityId) };
        const identity = await tx.channelIdentity.findUniqueOrThrow({ where: { id: c.identityId } });
        const messages = await tx.supportMessage.count({ where: { conversationId, isPrivateNote: false } });
        await emit('support.closed', {
          conversationId,
          customerId: c.customerId,
          platform: identity.platform,
          closedBy,
          operator: 'staff' in by ? { id: by.staff.id, name: by.staff.name } : null,
          closedAt: now.toISOString(),
          messages,
          rating: null,
        });
        return { changed: true, recipient: await recipientOf(tx, c.identityId) };
      });
    },

    /**
     * The conversation a free text would comment on: the customer's last one, closed and rated
     * within `withinMs`, with no comment yet. (The rating message invites one comment.)
     */
    async commentTarget(identityId: string, withinMs: number): Promise<string | null> {
      const last = await prisma.supportConversation.findFirst({ where: { identityId }, orderBy: { createdAt: 'desc' } });
      if (!last || last.status !== 'closed' || last.ratedAt === null || last.ratingComment !== null) return null;
      return clock.now().getTime() - last.ratedAt.getTime() <= withinMs ? last.id : null;
    },

    /** The customer's 1-5 for a closed conversation (a second press changes it). */
    async rate(conversationId: string, identityId: string, rating: number) {
      if (!Number.isInteger(rating) || rating < 1 || rating > 5) throw new DomainError('invalid_input', 'Rating is 1 to 5', { field: 'rating' });
      return tx(async ({ tx, emit }) => {
        const c = await conversationOrThrow(tx, conversationId);
        if (c.identityId !== identityId) throw new DomainError('not_found', 'Conversation not found');
        if (c.status !== 'closed') throw new DomainError('conflict', 'Only a closed conversation is rated', { reason: 'open' });
        const now = clock.now();
        await tx.supportConversation.update({ where: { id: conversationId }, data: { rating, ratedAt: now } });
        const identity = await tx.channelIdentity.findUniqueOrThrow({ where: { id: identityId } });
        await emit('support.rated', { conversationId, customerId: c.customerId, platform: identity.platform, rating, comment: c.ratingComment });
        return { rating };
      });
    },

    async comment(conversationId: string, identityId: string, text: string) {
      const comment = cleanText(text);
      if (!comment) throw new DomainError('invalid_input', 'Comment is empty', { field: 'comment' });
      if (comment.length > RATING_COMMENT_MAX) throw new DomainError('invalid_input', 'Comment is too long', { field: 'comment', max: RATING_COMMENT_MAX });
      return tx(async ({ tx, emit }) => {
        const c = await conversationOrThrow(tx, conversationId);
        if (c.identityId !== identityId || c.status !== 'closed') throw new DomainError('not_found', 'Conversation not found');
        await tx.supportConversation.update({ where: { id: conversationId }, data: { ratingComment: comment } });
        const identity = await tx.channelIdentity.findUniqueOrThrow({ where: { id: identityId } });
        await emit('support.rated', { conversationId, customerId: c.customerId, platform: identity.platform, rating: c.rating, comment });
        return { comment };
      });
    },

    /**
     * Conversations whose customer has waited `afterSeconds` with no operator answer and no
     * auto-reply yet in this round. Each is claimed (autoRepliedAt set) so only one process
     * replies.
     */
    async claimAutoReplies(afterSeconds: number, limit = 100): Promise<Array<{ conversationId: string; recipient: Recipient }>> {
      const cutoff = new Date(clock.now().getTime() - afterSeconds * 1000);
      const due = await prisma.supportConversation.findMany({
        where: { status: { in: OPEN }, answeredAt: null, autoRepliedAt: null, lastInboundAt: { lte: cutoff } },
        orderBy: { lastInboundAt: 'asc' },
        take: limit,
      });
      const claimed = [];
      for (const c of due) {
        const won = await prisma.supportConversation.updateMany({ where: { id: c.id, autoRepliedAt: null }, data: { autoRepliedAt: clock.now() } });
        if (won.count === 1) claimed.push({ conversationId: c.id, recipient: await recipientOf(prisma, c.identityId) });
      }
      return claimed;
    },

    /** Conversations with customer messages still not in the topic after `olderThanSeconds` (a lost relay job). */
    async stalePending(olderThanSeconds: number, limit = 100): Promise<string[]> {
      const cutoff = new Date(clock.now().getTime() - olderThanSeconds * 1000);
      const rows = await prisma.supportMessage.findMany({ where: { direction: 'inbound', deliveryStatus: 'pending', createdAt: { lte: cutoff } }, distinct: ['conversationId'], select: { conversationId: true }, take: limit });
      return rows.map((r) => r.conversationId);
    },

    /** Marks a conversation auto-replied now (an out-of-hours answer was already given). */
    async markAutoReplied(conversationId: string) {
      await prisma.supportConversation.updateMany({ where: { id: conversationId, autoRepliedAt: null }, data: { autoRepliedAt: clock.now() } });
    },

    /** Conversations left waiting `afterSeconds` with no answer, not yet reminded of; claimed. */
    async claimReminders(afterSeconds: number, limit = 100): Promise<Array<{ conversationId: string; waitingSince: Date }>> {
      const cutoff = new Date(clock.now().getTime() - afterSeconds * 1000);
      const due = await prisma.supportConversation.findMany({
        where: { status: { in: OPEN }, answeredAt: null, remindedAt: null, lastInboundAt: { lte: cutoff }, staffThreadId: { not: null } },
        orderBy: { lastInboundAt: 'asc' },
        take: limit,
      });
      const claimed = [];
      for (const c of due) {
        const won = await prisma.supportConversation.updateMany({ where: { id: c.id, remindedAt: null }, data: { remindedAt: clock.now() } });
        if (won.count === 1) claimed.push({ conversationId: c.id, waitingSince: c.lastInboundAt ?? c.createdAt });
      }
      return claimed;
    },
  };
}

export type SupportService = ReturnType<typeof createSupportService>;
