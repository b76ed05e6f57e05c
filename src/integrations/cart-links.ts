/**
 * The cart link a customer gets for a repeat order. A shop on Shopify gets a cart permalink
 * with variant ids (/cart/<variant>:<qty>,...); a shop on WooCommerce gets its add-to-cart
 * link (one product natively; several as "id:qty,id:qty", which needs the "Add multiple
 * products to cart via URL" plugin — README); any other shop fills SHOP_CART_URL_TEMPLATE.
 */
import type { Config } from '../config/index.js';
import type { PrismaClient } from '../generated/prisma/client.js';

export interface CartLine {
  sku: string;
  quantity: number;
}

export type CartLinkBuilder = (lines: CartLine[], orderNumber: string) => Promise<string>;

/** SHOP_CART_URL_TEMPLATE: {items} → URL-encoded "sku:qty,sku:qty", {order} → the order number. */
export function templateCartLink(template: string, lines: CartLine[], orderNumber: string): string {
  const items = lines.map((l) => `${l.sku}:${l.quantity}`).join(',');
  return template.replaceAll('{items}', encodeURIComponent(items)).replaceAll('{order}', encodeURIComponent(orderNumber));
}

export function createCartLinkBuilder(deps: { config: Pick<Config, 'shop' | 'integrations'>; prisma: Pick<PrismaClient, 'product'> }): CartLinkBuilder {
  const { shopify, woocommerce } = deps.config.integrations;
  const fallback: CartLinkBuilder = async (lines, number) => templateCartLink(deps.config.shop.cartUrlTemplate, lines, number);
  const platformBase = shopify?.shopDomain ? `https://${shopify.shopDomain}` : woocommerce?.url;
  if (!platformBase) return fallback;

  return async (lines, number) => {
    const products = await deps.prisma.product.findMany({ where: { sku: { in: lines.map((l) => l.sku) } }, select: { sku: true, platformRef: true } });
    const refs = new Map(products.filter((p) => p.platformRef).map((p) => [p.sku, p.platformRef!]));
    const known = lines.filter((l) => refs.has(l.sku) && /^\d+$/.test(refs.get(l.sku)!));
    if (known.length === 0) return fallback(lines, number);
    const pairs = known.map((l) => `${refs.get(l.sku)}:${l.quantity}`);
    if (shopify) return `${platformBase}/cart/${pairs.join(',')}?ref=kabinet`;
    const [first] = known;
    return known.length === 1
      ? `${platformBase}/cart/?add-to-cart=${refs.get(first!.sku)}&quantity=${first!.quantity}`
      : `${platformBase}/cart/?add-to-cart=${encodeURIComponent(pairs.join(','))}`;
  };
}
