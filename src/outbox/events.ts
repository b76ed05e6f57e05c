/**
 * Every webhook event Kabinet sends to the shop, with its `data` payload. This is the
 * contract: README.md beside this file documents it for shop developers, the OpenAPI page
 * (/docs) links there. Add a type here, then in README.md. Payloads carry Kabinet's ids
 * (the shop learns `customerId` from the API's answers) and the values the shop needs, never
 * more; the writer adds the shop's own reference to the customer (`ShopCustomerRef`).
 */
import type { AddressDto } from '../domain/customers/addresses.js';

export type WebhookPlatform = 'telegram' | 'vk';

/**
 * Added by the outbox writer (enqueue.ts) to every payload that has `customerId`, as
 * `customer`: the shop's own id for the customer and the phone, as of the event. Null when
 * `customerId` is null or names no customer.
 */
export interface ShopCustomerRef {
  /** The shop's id, when the shop sent one (`externalId` in the shop API); else null. */
  externalId: string | null;
  /** E.164. Personal data: only in the signed webhook body, never in logs. */
  phone: string;
}

export interface CustomerLinkedPayload {
  customerId: string;
  platform: WebhookPlatform;
  /** True when no customer had this phone and Kabinet created one. */
  created: boolean;
}

export interface CustomerUpdatedPayload {
  customerId: string;
  /** Names of the changed fields. */
  fields: string[];
  /** The new values by field (birthday as YYYY-MM-DD). */
  changes: Record<string, string | boolean | null>;
}

export interface CustomerAddressChangedPayload {
  customerId: string;
  action: 'added' | 'updated' | 'deleted' | 'default_changed';
  addressId: string;
  /** The customer's addresses after the change, default first. */
  addresses: AddressDto[];
}

export interface RepeatOrderRequestedPayload {
  requestId: string;
  customerId: string;
  orderId: string;
  orderNumber: string;
  items: Array<{
    sku: string;
    /** Quantity put into the cart (may be less than ordered, 0 when unavailable). */
    quantity: number;
    orderedQuantity: number;
    /** Current price, as a decimal string; null when the product is gone. */
    price: string | null;
    previousPrice: string;
    available: boolean;
    state: 'ok' | 'price_changed' | 'out_of_stock' | 'partial_stock' | 'unavailable';
  }>;
  /** The cart link built from SHOP_CART_URL_TEMPLATE, shown to the customer. */
  cartUrl: string;
}

export interface SupportAttachmentRef {
  kind: string;
  fileName: string | null;
}

export interface SupportRequestedPayload {
  conversationId: string;
  messageId: string;
  /** Null when the person wrote before logging in. */
  customerId: string | null;
  platform: WebhookPlatform;
  /** The question as the customer wrote it (null when only files were sent). */
  text: string | null;
  attachments: SupportAttachmentRef[];
  /** True when the message joined an open conversation. */
  reused: boolean;
}

export interface SupportMessagePayload {
  conversationId: string;
  messageId: string;
  customerId: string | null;
  platform: WebhookPlatform;
  /** inbound: the customer wrote; outbound: an operator answered (private notes are never sent). */
  direction: 'inbound' | 'outbound';
  text: string | null;
  attachments: SupportAttachmentRef[];
  operator: { id: string; name: string } | null;
}

export interface SupportClosedPayload {
  conversationId: string;
  customerId: string | null;
  platform: WebhookPlatform;
  closedBy: 'operator' | 'customer';
  operator: { id: string; name: string } | null;
  closedAt: string;
  /** Messages exchanged (notes excluded). */
  messages: number;
  /** Always null at close: the customer is asked afterwards; `support.rated` carries it. */
  rating: number | null;
}

export interface SupportRatedPayload {
  conversationId: string;
  customerId: string | null;
  platform: WebhookPlatform;
  rating: number | null;
  comment: string | null;
}

export interface OutboxEventPayloads {
  'customer.linked': CustomerLinkedPayload;
  'customer.updated': CustomerUpdatedPayload;
  'customer.address_changed': CustomerAddressChangedPayload;
  'repeat_order.requested': RepeatOrderRequestedPayload;
  'support.requested': SupportRequestedPayload;
  'support.message': SupportMessagePayload;
  'support.closed': SupportClosedPayload;
  'support.rated': SupportRatedPayload;
}

/** Webhook event types Kabinet sends to the shop. The shop dispatches on `type`. */
export type OutboxEventType = keyof OutboxEventPayloads;

export const OUTBOX_EVENT_TYPES: readonly OutboxEventType[] = ['customer.linked', 'customer.updated', 'customer.address_changed', 'repeat_order.requested', 'support.requested', 'support.message', 'support.closed', 'support.rated'];
