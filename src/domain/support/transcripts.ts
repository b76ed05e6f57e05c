/** Read side for the admin API: conversations by status and a conversation's transcript. */
import { DomainError } from '../../errors.js';
import type { PrismaClient } from '../../infra/prisma.js';
import type { Attachment, ConversationStatus } from './support.service.js';

export function createTranscriptQueries(deps: { prisma: PrismaClient }) {
  const { prisma } = deps;
  return {
    /** Newest activity first; keyset pagination by id within the order. */
    async list(input: { status?: ConversationStatus | undefined; limit: number; cursor?: string | undefined }) {
      const rows = await prisma.supportConversation.findMany({
        where: { ...(input.status ? { status: input.status } : {}) },
        orderBy: [{ lastMessageAt: 'desc' }, { id: 'desc' }],
        take: input.limit,
        ...(input.cursor ? { cursor: { id: input.cursor }, skip: 1 } : {}),
        include: { identity: { select: { platform: true } }, assignee: { select: { id: true, name: true } }, _count: { select: { messages: true } } },
      });
      return rows.map((c) => ({
        id: c.id,
        status: c.status,
        platform: c.identity.platform,
        customerId: c.customerId,
        assignee: c.assignee,
        messages: c._count.messages,
        staffChatId: c.staffChatId,
        staffThreadId: c.staffThreadId,
        rating: c.rating,
        ratingComment: c.ratingComment,
        closedBy: c.closedBy,
        createdAt: c.createdAt.toISOString(),
        lastMessageAt: c.lastMessageAt.toISOString(),
        answeredAt: c.answeredAt?.toISOString() ?? null,
        closedAt: c.closedAt?.toISOString() ?? null,
      }));
    },

    async transcript(conversationId: string, input: { limit: number; cursor?: string | undefined }) {
      const exists = await prisma.supportConversation.findUnique({ where: { id: conversationId }, select: { id: true } });
      if (!exists) throw new DomainError('not_found', 'No conversation with this id');
      const rows = await prisma.supportMessage.findMany({
        where: { conversationId },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        take: input.limit,
        ...(input.cursor ? { cursor: { id: input.cursor }, skip: 1 } : {}),
        include: { authorStaff: { select: { id: true, name: true } } },
      });
      return rows.map((m) => ({
        id: m.id,
        direction: m.direction,
        author: m.direction === 'inbound' ? { kind: 'customer' as const, id: null, name: null } : { kind: 'operator' as const, id: m.authorStaff?.id ?? null, name: m.authorStaff?.name ?? null },
        note: m.isPrivateNote,
        text: m.text,
        attachments: ((m.attachments ?? []) as unknown as Attachment[]).map((a) => ({ kind: a.kind, fileName: a.fileName ?? null, mimeType: a.mimeType ?? null })),
        deliveryStatus: m.deliveryStatus,
        deliveryError: m.deliveryError,
        createdAt: m.createdAt.toISOString(),
      }));
    },
  };
}

export type TranscriptQueries = ReturnType<typeof createTranscriptQueries>;
