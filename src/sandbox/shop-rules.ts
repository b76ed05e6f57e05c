/**
 * The demo shop's own rules, as a real shop's back office would have them: which status an
 * order may move to next, and what its payment status becomes. The sandbox's shop panel
 * offers only these moves, so "delivered → created" or a paid order still "pending" cannot
 * be produced from the page. (Kabinet itself accepts whatever the shop sends: the shop is
 * the system of record.)
 */
import type { OrderStatus } from '../generated/prisma/enums.js';

export const ORDER_STATUSES: readonly OrderStatus[] = ['created', 'confirmed', 'paid', 'assembling', 'shipped', 'ready_for_pickup', 'delivered', 'cancelled', 'returned'];

export interface PanelOrder {
  status: OrderStatus;
  deliveryMethod: string | null;
  paymentMethod: string | null;
  paymentStatus: string | null;
}

/** Paid on receipt (cash or card to the courier / at the pickup point) rather than in advance. */
export function paysOnDelivery(order: Pick<PanelOrder, 'paymentMethod'>): boolean {
  return /cash|cod|on_?delivery|on_?receipt/i.test(order.paymentMethod ?? '');
}

const isPickup = (order: Pick<PanelOrder, 'deliveryMethod'>) => /pickup|self/i.test(order.deliveryMethod ?? '');

/** The statuses a shop would move this order to next, in the order a shop works. */
export function nextStatuses(order: PanelOrder): OrderStatus[] {
  const prepaid = !paysOnDelivery(order);
  const paid = order.paymentStatus === 'paid';
  switch (order.status) {
    case 'created':
      return ['confirmed', ...(prepaid ? (['paid'] as const) : []), 'cancelled'];
    case 'confirmed':
      // Prepaid orders are assembled once paid; cash-on-delivery ones right away.
      return prepaid && !paid ? ['paid', 'cancelled'] : ['assembling', 'cancelled'];
    case 'paid':
      return ['assembling', 'cancelled'];
    case 'assembling':
      // A pickup order waits at the shop; a delivery goes to the carrier.
      return isPickup(order) ? ['ready_for_pickup', 'cancelled'] : ['shipped', 'cancelled'];
    case 'shipped':
      // The carrier delivers, or leaves it at a pickup point, or brings it back (refused).
      return ['delivered', 'ready_for_pickup', 'returned'];
    case 'ready_for_pickup':
      return ['delivered', 'returned'];
    case 'delivered':
      return ['returned'];
    case 'cancelled':
    case 'returned':
      return [];
  }
}

/** The payment status after moving to `to`: paid when money came, refunded when it went back. */
export function paymentStatusAfter(order: PanelOrder, to: OrderStatus): string | null {
  const wasPaid = order.paymentStatus === 'paid';
  switch (to) {
    case 'paid':
      return 'paid';
    case 'delivered':
      // Cash on delivery is collected on handing over; a prepaid order was paid already.
      return 'paid';
    case 'cancelled':
    case 'returned':
      return wasPaid ? 'refunded' : 'cancelled';
    default:
      return order.paymentStatus ?? 'pending';
  }
}

/** Whether `to` is a move this shop makes from the order's current state. */
export function canMove(order: PanelOrder, to: OrderStatus): boolean {
  return nextStatuses(order).includes(to);
}
