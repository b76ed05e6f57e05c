/**
 * Factories for the rows most tests need: customers, products, orders (with items and a
 * status timeline). Each takes overrides; unique fields get a counter so calls never clash.
 */
import type { PrismaClient } from '../../src/infra/prisma.js';
import type { OrderStatus } from '../../src/generated/prisma/enums.js';

let seq = 0;
const next = () => ++seq;

export async function createCustomer(prisma: PrismaClient, overrides: { phone?: string; firstName?: string | null; lastName?: string | null; language?: string; email?: string | null } = {}) {
  const n = next();
  return prisma.customer.create({
    data: {
      phone: overrides.phone ?? `+7900${String(1_000_000 + n).slice(-7)}`,
      firstName: overrides.firstName === undefined ? `Customer${n}` : overrides.firstName,
      lastName: overrides.lastName ?? null,
      email: overrides.email ?? null,
      language: overrides.language ?? 'ru',
    },
  });
}

export async function createProduct(prisma: PrismaClient, overrides: { sku?: string; name?: string; nameEn?: string | null; price?: string | number; stock?: number; isActive?: boolean; url?: string | null } = {}) {
  const n = next();
  return prisma.product.create({
    data: {
      sku: overrides.sku ?? `SKU-${n}`,
      name: overrides.name ?? `Товар ${n}`,
      nameEn: overrides.nameEn ?? null,
      price: String(overrides.price ?? '1000.00'),
      stock: overrides.stock ?? 10,
      isActive: overrides.isActive ?? true,
      url: overrides.url ?? null,
    },
  });
}

export interface OrderItemInput {
  product: { id: string; sku: string; name: string };
  quantity: number;
  price: string | number;
}

export async function createOrder(
  prisma: PrismaClient,
  customerId: string,
  input: {
    number?: string;
    status?: OrderStatus;
    placedAt?: Date;
    items: OrderItemInput[];
    deliveryCost?: number;
    carrier?: string | null;
    trackingNumber?: string | null;
    trackingUrl?: string | null;
    deliveryMethod?: string | null;
    paymentMethod?: string | null;
    paymentStatus?: string | null;
    /** The timeline, oldest first. */
    events?: Array<{ status: OrderStatus; occurredAt: Date; carrier?: string; trackingNumber?: string; trackingUrl?: string; location?: string }>;
  },
) {
  const n = next();
  const itemsTotal = input.items.reduce((s, i) => s + Number(i.price) * i.quantity, 0);
  const deliveryCost = input.deliveryCost ?? 0;
  return prisma.order.create({
    data: {
      number: input.number ?? `K-${100000 + n}`,
      customerId,
      status: input.status ?? 'created',
      itemsTotal: itemsTotal.toFixed(2),
      deliveryCost: deliveryCost.toFixed(2),
      total: (itemsTotal + deliveryCost).toFixed(2),
      placedAt: input.placedAt ?? new Date(Date.UTC(2026, 0, 1) + n * 60_000),
      carrier: input.carrier ?? null,
      trackingNumber: input.trackingNumber ?? null,
      trackingUrl: input.trackingUrl ?? null,
      deliveryMethod: input.deliveryMethod ?? null,
      paymentMethod: input.paymentMethod ?? null,
      paymentStatus: input.paymentStatus ?? null,
      items: { create: input.items.map((i) => ({ productId: i.product.id, sku: i.product.sku, name: i.product.name, quantity: i.quantity, price: String(i.price) })) },
      statusEvents: { create: (input.events ?? []).map((e) => ({ ...e })) },
    },
    include: { items: true },
  });
}
