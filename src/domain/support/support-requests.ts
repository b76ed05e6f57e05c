/**
 * "Talk to a person": opens (or reuses) a waiting conversation for the identity, stores the
 * customer's message and tells the shop. The operator side (staff bot) picks it up from there.
 */
import { DomainError } from '../../errors.js';
import type { Clock } from '../../infra/clock.js';
import type { PrismaClient } from '../../infra/prisma.js';
import { noOutboxDispatch, transactionWithOutbox, type OutboxDispatcher } from '../../outbox/enqueue.js';

export const SUPPORT_TEXT_MAX = 4000;

export function createSupportRequestsService(deps: { prisma: PrismaClient; clock: Clock; outbox?: OutboxDispatcher }) {
  const { prisma, clock } = deps;
  const outbox = deps.outbox ?? noOutboxDispatch;
  return {
    /** Returns the conversation id and whether an open one was reused. */
    async request(identityId: string, text: string): Promise<{ conversationId: string; reused: boolean }> {
      const body = text.trim();
      if (!body) throw new DomainError('invalid_input', 'Message is empty', { field: 'text' });
      if (body.length > SUPPORT_TEXT_MAX) throw new DomainError('invalid_input', 'Message is too long', { field: 'text', max: SUPPORT_TEXT_MAX });
      return transactionWithOutbox(prisma, outbox, async ({ tx, emit }) => {
        const identity = await tx.channelIdentity.findUnique({ where: { id: identityId } });
        if (!identity) throw new DomainError('not_found', 'Identity not found');
        const now = clock.now();
        const open = await tx.supportConversation.findFirst({ where: { identityId, status: { in: ['waiting', 'with_operator'] } }, orderBy: { createdAt: 'desc' } });
        const conversation = open
          ? await tx.supportConversation.update({ where: { id: open.id }, data: { lastMessageAt: now } })
          : await tx.supportConversation.create({ data: { identityId, customerId: identity.customerId, status: 'waiting', lastMessageAt: now } });
        const message = await tx.supportMessage.create({ data: { conversationId: conversation.id, direction: 'inbound', text: body, deliveryStatus: 'sent' } });
        await emit('support.requested', { conversationId: conversation.id, messageId: message.id, customerId: identity.customerId, platform: identity.platform, reused: Boolean(open) });
        return { conversationId: conversation.id, reused: Boolean(open) };
      });
    },
  };
}

export type SupportRequestsService = ReturnType<typeof createSupportRequestsService>;
