/** Every BullMQ queue Kabinet runs. Job payloads carry ids, never personal data. */
export const QueueName = {
  /** Fan-out of domain events (order status, stock, points) into per-identity sends. */
  notifications: 'notifications',
  /** Per-platform sends with a global rate limiter across all workers. */
  sendTelegram: 'send-telegram',
  sendVk: 'send-vk',
  /** Signed webhooks back to the shop, retried with exponential backoff. */
  outbox: 'outbox',
  /** Back-in-stock and price-drop alerts of one product change, fanned out set-based. */
  alertFanout: 'alert-fanout',
  /** Asynchronous batch imports from the shop API (`?async=true`). */
  shopImport: 'shop-import',
  /** Broadcast fan-out to segments. */
  broadcasts: 'broadcasts',
  /** Periodic housekeeping: points expiry, support auto-replies, dedup cleanup. */
  maintenance: 'maintenance',
  /** Operators' answers to customers, delivered in order per conversation (src/staff/operator-reply.queue.ts). */
  operatorReplies: 'operator-replies',
  /** Support auto-replies and staff reminders, on a schedule. */
  supportSweep: 'support-sweep',
} as const;

/**
 * One queue per staff group: everything posted or edited in it, paced to Telegram's 20
 * messages a minute per group (a pause for one group holds no other).
 */
export const staffGroupQueueName = (chatId: string): string => `staff-group-${chatId.replace(/^-/, 'm')}`;

export type QueueName = (typeof QueueName)[keyof typeof QueueName];
