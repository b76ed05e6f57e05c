/** What the shop sends, as the domain sees it (validated shapes; the API's schemas mirror these). */
import type { OrderStatus } from '../../generated/prisma/enums.js';

export interface CustomerInput {
  phone: string;
  externalId?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  email?: string | null;
  language?: string;
  personalDataConsent?: boolean;
  marketingConsent?: boolean;
}

export interface ProductInput {
  sku: string;
  name: string;
  nameEn?: string | null;
  description?: string | null;
  price: number;
  oldPrice?: number | null;
  currency?: string;
  stock: number;
  url?: string | null;
  imageUrl?: string | null;
  isActive?: boolean;
}

export interface OrderItemInput {
  sku: string;
  name: string;
  quantity: number;
  price: number;
}

export interface OrderInput {
  number: string;
  /** The customer by phone (created if new) or by the shop's id. */
  customerPhone?: string;
  customerExternalId?: string;
  status: OrderStatus;
  currency?: string;
  itemsTotal: number;
  deliveryCost?: number;
  discount?: number;
  pointsSpent?: number;
  total: number;
  deliveryMethod?: string | null;
  deliveryAddress?: string | null;
  carrier?: string | null;
  trackingNumber?: string | null;
  trackingUrl?: string | null;
  paymentMethod?: string | null;
  paymentStatus?: string | null;
  placedAt: string;
  items: OrderItemInput[];
  /** A past order (history import): stored without loyalty accrual and without telling the customer. */
  history?: boolean;
}

export interface StatusChangeInput {
  status: OrderStatus;
  occurredAt: string;
  carrier?: string | null;
  trackingNumber?: string | null;
  trackingUrl?: string | null;
  location?: string | null;
  note?: string | null;
}

/** One item's fate in a batch. */
export interface ItemError {
  index: number;
  /** sku / order number / phone masked: what identifies the item to the shop. */
  key: string | null;
  field: string | null;
  message: string;
}

export interface BatchReport {
  received: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  errors: ItemError[];
}
