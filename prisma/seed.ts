/**
 * npm run db:seed: the demo shop (products, customers with orders in every status, tracking
 * histories, loyalty histories, wishlists). Idempotent: everything is keyed by natural ids
 * (sku, phone, order number, seed event ids), so running it again changes nothing.
 * `npm run db:seed -- --reset` empties every table first: back to a clean demo;
 * `-- --if-empty` (what `npm start` runs) seeds only a database without customers.
 *
 * Every date is relative to `now` and lies in the past: the newest order was placed nine
 * days ago and its whole timeline (and the points it earned or lost) fits before today.
 */
import { loadConfig, loadDotEnv, type Config } from '../src/config/index.js';
import { createPrisma, type PrismaClient } from '../src/infra/prisma.js';
import { ALL_STATUSES, SEED_CUSTOMERS, STATUS_PATHS, seedProducts, type SeedStatus } from './seed-data.js';

const DAY = 24 * 3600 * 1000;
/** Time between two steps of an order's timeline: the longest (7 steps) ends before the next order. */
const STEP = 1.3 * DAY;
const CARRIERS = [
  { name: 'СДЭК', url: (n: string) => `https://www.cdek.ru/ru/tracking?order_id=${n}` },
  { name: 'Почта России', url: (n: string) => `https://www.pochta.ru/tracking#${n}` },
  { name: 'Boxberry', url: (n: string) => `https://boxberry.ru/tracking-page?id=${n}` },
];

export interface SeedSummary { products: number; customers: number; orders: number }

export async function seed(prisma: PrismaClient, config: Pick<Config, 'loyalty'>, now = new Date()): Promise<SeedSummary> {
  for (const [i, tier] of config.loyalty.tiers.entries()) {
    const data = { name: tier.name, nameEn: tier.nameEn, minSpend: tier.minSpend, accrualPercent: tier.accrualPercent, sortOrder: i };
    await prisma.loyaltyTier.upsert({ where: { code: tier.code }, create: { code: tier.code, ...data }, update: data });
  }

  const products = seedProducts();
  const productIds = new Map<string, { id: string; price: number; name: string }>();
  for (const p of products) {
    const data = {
      name: p.name,
      nameEn: p.nameEn,
      price: p.price,
      oldPrice: p.oldPrice ?? null,
      stock: p.stock,
      url: `https://shop.example/p/${p.sku}`,
      imageUrl: `https://shop.example/img/${p.sku}.jpg`,
      description: `${p.name}. Демо-товар магазина.`,
    };
    const row = await prisma.product.upsert({ where: { sku: p.sku }, create: { sku: p.sku, ...data }, update: {} });
    productIds.set(p.sku, { id: row.id, price: Number(row.price), name: row.name });
  }

  let orderCount = 0;
  for (const [ci, c] of SEED_CUSTOMERS.entries()) {
    const customer = await prisma.customer.upsert({
      where: { phone: c.phone },
      create: {
        phone: c.phone, firstName: c.firstName, lastName: c.lastName, email: c.email, language: c.language,
        birthday: c.birthday ? new Date(`${c.birthday}T00:00:00Z`) : null,
        personalDataConsent: true, marketingConsent: ci % 2 === 0,
        consentEvents: { create: [{ kind: 'personal_data', granted: true, source: 'shop' }, ...(ci % 2 === 0 ? [{ kind: 'marketing' as const, granted: true, source: 'shop' }] : [])] },
      },
      update: {},
    });
    if ((await prisma.address.count({ where: { customerId: customer.id } })) === 0) {
      await prisma.address.create({ data: { customerId: customer.id, label: c.language === 'en' ? 'Home' : 'Дом', ...c.address, isDefault: true } });
    }

    // One order per status, plus extra delivered ones for the first customer (a long history).
    const statuses: SeedStatus[] = [...ALL_STATUSES, ...(ci === 0 ? (['delivered', 'delivered', 'delivered'] as SeedStatus[]) : [])];
    let lifetimeSpend = 0;
    let lastOrderAt: Date | null = null;
    for (const [oi, status] of statuses.entries()) {
      const number = `K-${ci + 1}${String(oi + 1).padStart(4, '0')}`;
      const placedAt = new Date(now.getTime() - (statuses.length - oi) * 9 * DAY - ci * 3600 * 1000);
      const lines = [0, 1, 2].slice(0, 1 + (oi % 3)).map((k) => products[(ci * 11 + oi * 5 + k * 17) % products.length]!);
      const items = lines.map((p, k) => ({ sku: p.sku, name: productIds.get(p.sku)!.name, quantity: 1 + ((oi + k) % 2), price: p.price, productId: productIds.get(p.sku)!.id }));
      const itemsTotal = items.reduce((s, it) => s + it.price * it.quantity, 0);
      const deliveryCost = itemsTotal >= 5000 ? 0 : 350;
      const carrier = CARRIERS[(ci + oi) % CARRIERS.length]!;
      const path = STATUS_PATHS[status];
      const shippedOrLater = (path as readonly string[]).includes('shipped');
      const trackingNumber = shippedOrLater ? `${1000000000 + ci * 100000 + oi * 137}` : null;
      const pickup = oi % 4 === 1;
      const order = await prisma.order.upsert({
        where: { number },
        create: {
          number, customerId: customer.id, status, itemsTotal, deliveryCost, total: itemsTotal + deliveryCost,
          deliveryMethod: pickup ? 'pickup' : 'courier',
          deliveryAddress: pickup ? null : `${c.address.city}, ${c.address.street}, ${c.address.house}${c.address.apartment ? `, ${c.address.apartment}` : ''}`,
          carrier: shippedOrLater ? carrier.name : null,
          trackingNumber,
          trackingUrl: trackingNumber ? carrier.url(trackingNumber) : null,
          paymentMethod: oi % 2 === 0 ? 'card' : 'sbp',
          // Cancelled orders were never paid (created → cancelled); returned ones were refunded.
      paymentStatus: status === 'created' || status === 'confirmed' ? 'pending' : status === 'cancelled' ? 'cancelled' : status === 'returned' ? 'refunded' : 'paid',
          placedAt,
          items: { create: items },
        },
        update: {},
      });
      const stepAt = (si: number) => new Date(placedAt.getTime() + si * STEP);
      for (const [si, st] of path.entries()) {
        const at = stepAt(si);
        const isShip = st === 'shipped' || st === 'delivered' || st === 'ready_for_pickup';
        await prisma.orderStatusEvent.upsert({
          where: { sourceEventId: `seed:${number}:${st}` },
          create: {
            orderId: order.id, status: st, occurredAt: at, sourceEventId: `seed:${number}:${st}`,
            carrier: isShip ? carrier.name : null,
            trackingNumber: isShip ? trackingNumber : null,
            trackingUrl: isShip && trackingNumber ? carrier.url(trackingNumber) : null,
            location: st === 'shipped' ? (c.language === 'en' ? 'Sorting centre, Moscow' : 'Сортировочный центр, Москва') : st === 'delivered' ? c.address.city : null,
          },
          update: {},
        });
      }
      if (status === 'delivered' || status === 'returned') {
        const deliveredAt = stepAt((path as readonly string[]).indexOf('delivered'));
        const points = Math.floor((itemsTotal * 3) / 100);
        // The oldest accrual of the first customer expires soon, so "expiring" is visible.
        const expiresAt = ci === 0 && oi === statuses.indexOf('delivered') ? new Date(now.getTime() + 10 * DAY) : new Date(deliveredAt.getTime() + config.loyalty.pointsTtlDays * DAY);
        await prisma.loyaltyTransaction.upsert({
          where: { externalId: `seed:accrual:${number}` },
          create: { customerId: customer.id, kind: 'accrual', points, remaining: status === 'returned' ? 0 : points, orderId: order.id, expiresAt, reason: 'order_delivered', externalId: `seed:accrual:${number}`, createdAt: deliveredAt },
          update: {},
        });
        if (status === 'returned') {
          await prisma.loyaltyTransaction.upsert({
            where: { externalId: `seed:reversal:${number}` },
            create: { customerId: customer.id, kind: 'reversal', points: -points, orderId: order.id, reason: 'order_returned', externalId: `seed:reversal:${number}`, createdAt: stepAt((path as readonly string[]).indexOf('returned')) },
            update: {},
          });
        } else {
          lifetimeSpend += itemsTotal + deliveryCost;
          await prisma.order.update({ where: { id: order.id }, data: { pointsAccruedAt: deliveredAt } });
        }
      }
      lastOrderAt = placedAt;
      orderCount++;
    }

    await prisma.loyaltyTransaction.upsert({
      where: { externalId: `seed:welcome:${c.phone}` },
      create: { customerId: customer.id, kind: 'adjustment', points: 300, remaining: 200, reason: 'welcome_bonus', externalId: `seed:welcome:${c.phone}`, expiresAt: new Date(now.getTime() + 90 * DAY), createdAt: new Date(now.getTime() - 120 * DAY) },
      update: {},
    });
    await prisma.loyaltyTransaction.upsert({
      where: { externalId: `seed:redeem:${c.phone}` },
      create: { customerId: customer.id, kind: 'redemption', points: -100, reason: 'checkout', externalId: `seed:redeem:${c.phone}`, createdAt: new Date(now.getTime() - 30 * DAY) },
      update: {},
    });

    // Wishlist: two in stock, one sold out with a back-in-stock alert, one with a price alert.
    const wish = [products[(ci * 7 + 1) % products.length]!, products[(ci * 7 + 2) % products.length]!, products.filter((p) => p.stock === 0)[ci % 8]!];
    for (const p of wish) {
      const product = productIds.get(p.sku)!;
      await prisma.wishlistItem.upsert({
        where: { customerId_productId: { customerId: customer.id, productId: product.id } },
        create: { customerId: customer.id, productId: product.id, priceAtAdd: product.price },
        update: {},
      });
    }
    const soldOut = productIds.get(wish[2]!.sku)!;
    await prisma.productAlert.upsert({
      where: { customerId_productId_kind: { customerId: customer.id, productId: soldOut.id, kind: 'back_in_stock' } },
      create: { customerId: customer.id, productId: soldOut.id, kind: 'back_in_stock' },
      update: {},
    });
    const watched = productIds.get(wish[0]!.sku)!;
    await prisma.productAlert.upsert({
      where: { customerId_productId_kind: { customerId: customer.id, productId: watched.id, kind: 'price_drop' } },
      create: { customerId: customer.id, productId: watched.id, kind: 'price_drop', basePrice: watched.price },
      update: {},
    });

    // Derived fields, recomputed from the ledger and orders (so a re-run stays consistent).
    const balance = await prisma.loyaltyTransaction.aggregate({ where: { customerId: customer.id }, _sum: { points: true } });
    const tier = [...config.loyalty.tiers].reverse().find((t) => lifetimeSpend >= t.minSpend) ?? config.loyalty.tiers[0];
    await prisma.customer.update({
      where: { id: customer.id },
      data: { pointsBalance: balance._sum.points ?? 0, lifetimeSpend, loyaltyTierCode: tier?.code ?? null, lastOrderAt },
    });
  }
  return { products: products.length, customers: SEED_CUSTOMERS.length, orders: orderCount };
}

/**
 * Empties every table but Prisma's migration record, in one statement (TRUNCATE ... CASCADE),
 * so a reset never leaves half a shop behind.
 */
export async function resetDemoData(prisma: PrismaClient): Promise<void> {
  const tables = await prisma.$queryRaw<Array<{ tablename: string }>>`SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> '_prisma_migrations'`;
  if (tables.length === 0) return;
  const list = tables.map((t) => `"${t.tablename.replaceAll('"', '""')}"`).join(', ');
  await prisma.$executeRawUnsafe(`TRUNCATE TABLE ${list} RESTART IDENTITY CASCADE`);
}

// Run as a script (npm run db:seed [-- --reset | --if-empty]), not when imported by tests.
if (import.meta.url === `file://${process.argv[1]}`) {
  loadDotEnv();
  const config = loadConfig();
  const prisma = createPrisma({ databaseUrl: config.databaseUrl });
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--reset' && a !== '--if-empty');
  if (unknown.length > 0) {
    console.error(`Unknown argument(s): ${unknown.join(' ')}. Usage: npm run db:seed [-- --reset | --if-empty]`);
    process.exit(2);
  }
  try {
    // --if-empty (npm start): a database that has customers already is left as it is.
    if (args.includes('--if-empty') && !args.includes('--reset') && (await prisma.customer.count()) > 0) {
      console.log('The database already has the demo shop (npm run db:seed -- --reset starts over).');
    } else {
      if (args.includes('--reset')) {
        await resetDemoData(prisma);
        console.log('Emptied every table (--reset).');
      }
      const summary = await seed(prisma, config);
      console.log(`Seeded the demo shop: ${summary.products} products, ${summary.customers} customers, ${summary.orders} orders.`);
    }
  } finally {
    await prisma.$disconnect();
  }
}
