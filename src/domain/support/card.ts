/**
 * What operators see about a customer at the top of a topic: who writes and from where, the
 * account (masked phone, linked messengers, language, tier and points) and the last orders.
 * Plain data; the staff bot renders it.
 */
import type { PrismaClient } from '../../infra/prisma.js';
import { maskPhone } from '../../infra/logger.js';

export interface CustomerCard {
  conversationId: string;
  status: 'waiting' | 'with_operator' | 'closed';
  platform: 'telegram' | 'vk';
  /** The messenger name (first and last, username) as the platform gave it. */
  displayName: string;
  username: string | null;
  language: string;
  customer: null | {
    name: string | null;
    maskedPhone: string;
    messengers: Array<'telegram' | 'vk'>;
    tier: string | null;
    points: number;
  };
  orders: Array<{ number: string; status: string; total: string; currency: string; placedAt: string }>;
  ordersTotal: number;
  assignee: { id: string; name: string } | null;
  rating: number | null;
  ratingComment: string | null;
  /** The first question of this round. */
  question: string | null;
}

export function createCardQueries(deps: { prisma: PrismaClient }) {
  const { prisma } = deps;
  return {
    async card(conversationId: string, options: { orders?: number } = {}): Promise<CustomerCard | null> {
      const c = await prisma.supportConversation.findUnique({
        where: { id: conversationId },
        include: {
          identity: true,
          assignee: { select: { id: true, name: true } },
          customer: { include: { loyaltyTier: true, identities: { select: { platform: true } } } },
        },
      });
      if (!c) return null;
      const take = options.orders ?? 3;
      const [orders, ordersTotal] = c.customerId
        ? await Promise.all([
            prisma.order.findMany({ where: { customerId: c.customerId }, orderBy: { placedAt: 'desc' }, take, select: { number: true, status: true, total: true, currency: true, placedAt: true } }),
            prisma.order.count({ where: { customerId: c.customerId } }),
          ])
        : [[], 0];
      // The newest question: when a topic is (re)created this is what the customer asked.
      const question = await prisma.supportMessage.findFirst({
        where: { conversationId, direction: 'inbound' },
        orderBy: { createdAt: 'desc' },
        select: { text: true },
      });
      const id = c.identity;
      const displayName = [id.firstName, id.lastName].filter(Boolean).join(' ') || (id.username ? `@${id.username}` : `id${id.externalId}`);
      const customer = c.customer;
      return {
        conversationId: c.id,
        status: c.status,
        platform: id.platform,
        displayName,
        username: id.username,
        language: customer?.language ?? id.languageCode ?? 'ru',
        customer: customer
          ? {
              name: [customer.firstName, customer.lastName].filter(Boolean).join(' ') || null,
              maskedPhone: maskPhone(customer.phone),
              messengers: [...new Set(customer.identities.map((i) => i.platform))],
              tier: customer.loyaltyTier ? customer.loyaltyTier.name : null,
              points: customer.pointsBalance,
            }
          : null,
        orders: orders.map((o) => ({ number: o.number, status: o.status, total: o.total.toString(), currency: o.currency, placedAt: o.placedAt.toISOString() })),
        ordersTotal,
        assignee: c.assignee,
        rating: c.rating,
        ratingComment: c.ratingComment,
        question: question?.text ?? null,
      };
    },
  };
}

export type CardQueries = ReturnType<typeof createCardQueries>;
