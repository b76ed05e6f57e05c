/**
 * Products as the customer sees them (by SKU or by search) and the wishlist with its
 * back-in-stock and price-drop alerts.
 */
import { DomainError } from '../../errors.js';
import type { PrismaClient } from '../../infra/prisma.js';
import type { AlertKind } from '../../generated/prisma/enums.js';

export interface ProductDto {
  id: string;
  sku: string;
  name: string;
  nameEn: string | null;
  price: string;
  oldPrice: string | null;
  currency: string;
  stock: number;
  url: string | null;
  isActive: boolean;
}

export interface WishlistEntryDto {
  product: ProductDto;
  priceAtAdd: string;
  alerts: { backInStock: boolean; priceDrop: boolean };
}

export const WISHLIST_MAX = 50;
export const SEARCH_LIMIT = 8;

type ProductRow = { id: string; sku: string; name: string; nameEn: string | null; price: { toFixed(n: number): string }; oldPrice: { toFixed(n: number): string } | null; currency: string; stock: number; url: string | null; isActive: boolean };

const productDto = (p: ProductRow): ProductDto => ({
  id: p.id, sku: p.sku, name: p.name, nameEn: p.nameEn, price: p.price.toFixed(2), oldPrice: p.oldPrice?.toFixed(2) ?? null,
  currency: p.currency, stock: p.stock, url: p.url, isActive: p.isActive,
});

export function createWishlistService(deps: { prisma: PrismaClient }) {
  const { prisma } = deps;

  async function product(productId: string) {
    const p = await prisma.product.findUnique({ where: { id: productId } });
    if (!p) throw new DomainError('not_found', 'Product not found');
    return p;
  }

  return {
    async productBySku(sku: string): Promise<ProductDto> {
      const p = await prisma.product.findUnique({ where: { sku } });
      if (!p || !p.isActive) throw new DomainError('not_found', 'Product not found');
      return productDto(p);
    },

    async productById(productId: string): Promise<ProductDto> {
      return productDto(await product(productId));
    },

    /** Active products whose SKU equals the query or whose name contains it (case-insensitive). */
    async search(query: string): Promise<ProductDto[]> {
      const q = query.trim();
      if (q.length < 2 || q.length > 100) throw new DomainError('invalid_input', 'Query must be 2-100 characters', { field: 'query' });
      const rows = await prisma.product.findMany({
        where: {
          isActive: true,
          OR: [
            { sku: { equals: q, mode: 'insensitive' } },
            { name: { contains: q, mode: 'insensitive' } },
            { nameEn: { contains: q, mode: 'insensitive' } },
          ],
        },
        orderBy: [{ name: 'asc' }],
        take: SEARCH_LIMIT,
      });
      // An exact SKU match goes first.
      return rows.map(productDto).sort((a, b) => Number(b.sku.toLowerCase() === q.toLowerCase()) - Number(a.sku.toLowerCase() === q.toLowerCase()));
    },

    async list(customerId: string): Promise<WishlistEntryDto[]> {
      const [items, alerts] = await Promise.all([
        prisma.wishlistItem.findMany({ where: { customerId }, include: { product: true }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
        prisma.productAlert.findMany({ where: { customerId, active: true } }),
      ]);
      return items.map((i) => ({
        product: productDto(i.product),
        priceAtAdd: i.priceAtAdd.toFixed(2),
        alerts: {
          backInStock: alerts.some((a) => a.productId === i.productId && a.kind === 'back_in_stock'),
          priceDrop: alerts.some((a) => a.productId === i.productId && a.kind === 'price_drop'),
        },
      }));
    },

    async entry(customerId: string, productId: string): Promise<WishlistEntryDto | null> {
      return (await this.list(customerId)).find((e) => e.product.id === productId) ?? null;
    },

    /** Adds a product; adding one already there is a no-op. Returns whether it was new. */
    async add(customerId: string, productId: string): Promise<{ added: boolean }> {
      const p = await product(productId);
      if (!p.isActive) throw new DomainError('not_found', 'Product not found');
      const existing = await prisma.wishlistItem.findUnique({ where: { customerId_productId: { customerId, productId } } });
      if (existing) return { added: false };
      const count = await prisma.wishlistItem.count({ where: { customerId } });
      if (count >= WISHLIST_MAX) throw new DomainError('conflict', 'Wishlist is full', { max: WISHLIST_MAX });
      const created = await prisma.wishlistItem.createMany({ data: [{ customerId, productId, priceAtAdd: p.price }], skipDuplicates: true });
      return { added: created.count > 0 };
    },

    /** Removes the product and the alerts that came with it. */
    async remove(customerId: string, productId: string): Promise<void> {
      await prisma.$transaction([
        prisma.productAlert.updateMany({ where: { customerId, productId, active: true }, data: { active: false } }),
        prisma.wishlistItem.deleteMany({ where: { customerId, productId } }),
      ]);
    },

    /**
     * Turns an alert on or off. A price-drop alert remembers today's price: it fires when the
     * price falls below it. Only products in the wishlist can have alerts.
     */
    async setAlert(customerId: string, productId: string, kind: AlertKind, enabled: boolean): Promise<void> {
      const item = await prisma.wishlistItem.findUnique({ where: { customerId_productId: { customerId, productId } }, include: { product: true } });
      if (!item) throw new DomainError('not_found', 'Not in the wishlist');
      if (!enabled) {
        await prisma.productAlert.updateMany({ where: { customerId, productId, kind }, data: { active: false } });
        return;
      }
      const basePrice = kind === 'price_drop' ? item.product.price : null;
      await prisma.productAlert.upsert({
        where: { customerId_productId_kind: { customerId, productId, kind } },
        create: { customerId, productId, kind, basePrice },
        update: { active: true, basePrice, lastFiredAt: null },
      });
    },
  };
}

export type WishlistService = ReturnType<typeof createWishlistService>;
