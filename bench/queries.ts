/**
 * npm run bench:queries — the data model's indexes under load: 100,000 customers with
 * identities, 400,000 orders and 150,000 wishlist rows, then the queries the features run,
 * each timed with its indexes and again with them dropped (the baseline), in one run.
 *   - the order history page: one customer's orders, newest first, 5 per page;
 *   - a broadcast segment: consenting customers in one language and tiers, with a recent
 *     order and a reachable Telegram identity, paged by id (what a fan-out reads);
 *   - back-in-stock fan-out: who wishlisted a product.
 * Then a person's first contact (identities.touch creating the identity, on the 100,000 above):
 * CPU of this process and wall time per call, against the same two statements through Prisma's
 * runtime (touch() until the seventh session of 2026-12-07) and Prisma's upsert with the customer
 * included (before the fifth) as the baselines, alternated in rounds.
 * Owns the database kabinet_bench_queries (dropped at the start and at the end).
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { ensureDatabase, migrate } from '../src/infra/migrator.js';
import { createPrisma } from '../src/infra/prisma.js';
import { createIdentitiesService, TOUCH_SQL } from '../src/domain/customers/identities.js';
import { uuidV7 } from '../src/lib/uuid.js';
import { machine } from './lib/setup.js';
import { ms, table } from './lib/stats.js';

const ADMIN = process.env.BENCH_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const NAME = 'kabinet_bench_queries';
const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 100_000);
const url = (() => { const u = new URL(ADMIN); u.pathname = `/${NAME}`; return u.toString(); })();

async function withClient<T>(connection: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: connection });
  await c.connect();
  try { return await fn(c); } finally { await c.end(); }
}

const watchdog = setTimeout(() => { console.error('bench:queries: over 5 minutes; giving up'); process.exit(2); }, 300_000);
watchdog.unref();

console.log(`Kabinet query benchmarks — ${new Date().toISOString()}\nMachine: ${machine()}\n`);
await withClient(ADMIN, (c) => c.query(`DROP DATABASE IF EXISTS "${NAME}" WITH (FORCE)`));
await ensureDatabase(url);
await migrate(url, 'prisma/migrations');

const started = performance.now();
await withClient(url, async (c) => {
  await c.query(`INSERT INTO loyalty_tiers (code, name, "minSpend", "accrualPercent", "sortOrder", "updatedAt")
                 VALUES ('base','Base',0,3,0,now()), ('silver','Silver',20000,5,1,now()), ('gold','Gold',60000,7,2,now())`);
  await c.query(`INSERT INTO customers (id, phone, language, "marketingConsent", "notifyPromotions", "loyaltyTierCode", "lastOrderAt", "updatedAt")
                 SELECT gen_random_uuid(), '+7999' || lpad(i::text, 7, '0'), CASE WHEN i % 5 = 0 THEN 'en' ELSE 'ru' END,
                        i % 3 <> 0, i % 10 <> 0, (ARRAY['base','base','base','silver','gold'])[1 + i % 5],
                        now() - ((i * 7919) % 400) * interval '1 day', now()
                   FROM generate_series(1, ${CUSTOMERS}) AS i`);
  await c.query(`INSERT INTO channel_identities (id, platform, "externalId", "chatId", "customerId", "blockedAt", "updatedAt")
                 SELECT gen_random_uuid(), CASE WHEN n % 4 = 0 THEN 'vk'::"Platform" ELSE 'telegram'::"Platform" END, (1000000 + n)::text, (1000000 + n)::text, id,
                        CASE WHEN n % 17 = 0 THEN now() END, now()
                   FROM (SELECT id, row_number() OVER () AS n FROM customers) c`);
  await c.query(`INSERT INTO orders (id, number, "customerId", status, "itemsTotal", total, "placedAt", "updatedAt")
                 SELECT gen_random_uuid(), 'B-' || c.n || '-' || k, c.id, 'delivered', 1000, 1000, now() - (k * 11 + c.n % 9) * interval '1 day', now()
                   FROM (SELECT id, row_number() OVER () AS n FROM customers) c, generate_series(1, 4) AS k`);
  await c.query(`INSERT INTO products (id, sku, name, price, stock, "updatedAt")
                 SELECT gen_random_uuid(), 'SKU-' || i, 'Product ' || i, 100 + i, i % 3, now() FROM generate_series(1, 2000) AS i`);
  await c.query(`INSERT INTO wishlist_items (id, "customerId", "productId", "priceAtAdd")
                 SELECT gen_random_uuid(), c.id, p.id, 100
                   FROM (SELECT id, row_number() OVER () AS n FROM customers) c
                   CROSS JOIN generate_series(1, 3) AS k
                   JOIN (SELECT id, row_number() OVER () AS m FROM products) p ON p.m = 1 + (c.n * 31 + k * 7) % 2000
                  WHERE c.n % 2 = 0`);
  await c.query('ANALYZE');
});
const counts = await withClient(url, async (c) => (await c.query(`SELECT (SELECT count(*) FROM customers) AS customers, (SELECT count(*) FROM orders) AS orders, (SELECT count(*) FROM wishlist_items) AS wishlist`)).rows[0]);
console.log(`data: ${counts.customers} customers, ${counts.orders} orders, ${counts.wishlist} wishlist rows (${((performance.now() - started) / 1000).toFixed(1)} s to generate)\n`);

interface QueryCase { name: string; sql: string; params: () => Promise<unknown[]> | unknown[]; indexes: string[] }

const someCustomer = async () => withClient(url, async (c) => [(await c.query('SELECT id FROM customers ORDER BY phone OFFSET 4242 LIMIT 1')).rows[0].id]);
const someProduct = async () => withClient(url, async (c) => [(await c.query("SELECT id FROM products WHERE sku = 'SKU-77'")).rows[0].id]);

const cases: QueryCase[] = [
  {
    name: 'order history page (newest first, 5)',
    sql: `SELECT id, number, status, total, "placedAt" FROM orders WHERE "customerId" = $1 ORDER BY "placedAt" DESC LIMIT 5`,
    params: someCustomer,
    indexes: ['orders_customerId_placedAt_idx'],
  },
  {
    name: 'segment page (1000 ids, keyset)',
    sql: `SELECT c.id FROM customers c
           WHERE c."marketingConsent" AND c."notifyPromotions" AND c.language = 'ru'
             AND c."loyaltyTierCode" IN ('silver', 'gold') AND c."lastOrderAt" > now() - interval '90 days'
             AND EXISTS (SELECT 1 FROM channel_identities i WHERE i."customerId" = c.id AND i.platform = 'telegram' AND i."blockedAt" IS NULL)
             AND c.id > '00000000-0000-0000-0000-000000000000'
           ORDER BY c.id LIMIT 1000`,
    params: () => [],
    indexes: ['customers_marketingConsent_notifyPromotions_language_idx', 'customers_loyaltyTierCode_idx', 'customers_lastOrderAt_idx', 'channel_identities_customerId_platform_idx'],
  },
  {
    name: 'segment size (count)',
    sql: `SELECT count(*) FROM customers c
           WHERE c."marketingConsent" AND c."notifyPromotions" AND c.language = 'ru'
             AND c."loyaltyTierCode" IN ('silver', 'gold') AND c."lastOrderAt" > now() - interval '90 days'
             AND EXISTS (SELECT 1 FROM channel_identities i WHERE i."customerId" = c.id AND i.platform = 'telegram' AND i."blockedAt" IS NULL)`,
    params: () => [],
    indexes: ['customers_marketingConsent_notifyPromotions_language_idx', 'customers_loyaltyTierCode_idx', 'customers_lastOrderAt_idx', 'channel_identities_customerId_platform_idx'],
  },
  {
    name: 'who wishlisted a product (alert fan-out)',
    sql: `SELECT w."customerId" FROM wishlist_items w WHERE w."productId" = $1`,
    params: someProduct,
    indexes: ['wishlist_items_productId_idx'],
  },
];

async function time(c: pg.Client, sql: string, params: unknown[], runs = 15): Promise<number[]> {
  await c.query(sql, params); // warm the cache
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await c.query(sql, params);
    samples.push(performance.now() - t);
  }
  return samples.sort((a, b) => a - b);
}

const rows: string[][] = [['query', 'with indexes p50', 'p95', 'without (baseline) p50', 'speed-up', 'plan with indexes']];
for (const q of cases) {
  const params = await q.params();
  await withClient(url, async (c) => {
    const withIdx = await time(c, q.sql, params);
    const plan = (await c.query(`EXPLAIN ${q.sql}`, params)).rows.map((r) => r['QUERY PLAN'] as string);
    const scans = plan.map((l) => /(Index Only Scan|Index Scan|Bitmap Index Scan|Seq Scan) (?:using (\S+) )?on (\S+)/.exec(l)).filter(Boolean).map((m) => `${m![1]}${m![2] ? ` ${m![2]}` : ''} on ${m![3]}`);
    await c.query('BEGIN');
    for (const idx of q.indexes) await c.query(`DROP INDEX "${idx}"`);
    const without = await time(c, q.sql, params, 5);
    await c.query('ROLLBACK');
    const p50 = withIdx[Math.floor(withIdx.length / 2)]!;
    const p95 = withIdx[Math.floor(withIdx.length * 0.95)]!;
    const base = without[Math.floor(without.length / 2)]!;
    rows.push([q.name, ms(p50), ms(p95), ms(base), `×${(base / p50).toFixed(1)}`, [...new Set(scans)].join('; ')]);
  });
}
console.log(table(rows));

// A first contact, through Prisma as the bot runs it (the CPU is the bot process's).
{
  const prisma = createPrisma({ databaseUrl: url });
  const identities = createIdentitiesService({ prisma, clock: { now: () => new Date() } as never, resolveLanguage: (c) => c ?? 'ru' });
  let next = 900_000_000;
  const person = () => ({ platform: 'telegram' as const, externalId: String(next), chatId: String(next++), firstName: 'Новый', languageCode: 'ru' });
  const include = { customer: { select: { language: true } } } as const;
  const subjects: Array<[string, () => Promise<unknown>]> = [
    ['touch(): a new person (SELECT, then one INSERT … ON CONFLICT)', () => identities.touch(person())],
    ['the same two statements through Prisma\'s runtime ($queryRawUnsafe; touch() before 2026-12-07, seventh session)', async () => {
      const p = person();
      const [existing] = await prisma.$queryRawUnsafe<unknown[]>(TOUCH_SQL.select, p.platform, p.externalId);
      if (existing) throw new Error('bench: a new person was already there');
      const now = new Date();
      return prisma.$queryRawUnsafe(TOUCH_SQL.upsert, uuidV7(now.getTime()), p.platform, p.externalId, p.chatId, null, p.firstName, null, 'ru', now);
    }],
    ['baseline: Prisma upsert with the customer included', () => {
      const p = person();
      return prisma.channelIdentity.upsert({
        where: { platform_externalId: { platform: p.platform, externalId: p.externalId } },
        create: { platform: p.platform, externalId: p.externalId, chatId: p.chatId, firstName: p.firstName, languageCode: 'ru', lastSeenAt: new Date() },
        update: { chatId: p.chatId, lastSeenAt: new Date() },
        include,
      });
    }],
  ];
  const cpu = subjects.map(() => 0);
  const wall = subjects.map(() => 0);
  const CALLS = 50;
  const ROUNDS = 6; // the first is warm-up, not counted
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, [, call]] of subjects.entries()) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let n = 0; n < CALLS; n++) await call();
      const used = process.cpuUsage(c0);
      if (round > 0) {
        cpu[i]! += used.user + used.system;
        wall[i]! += performance.now() - t0;
      }
    }
  }
  const counted = CALLS * (ROUNDS - 1);
  console.log(`\nA first contact, ${counted} calls each, one at a time, alternated in rounds of ${CALLS} (after one round of warm-up):`);
  console.log(table([
    ['call', 'CPU per call (this process)', 'wall per call', 'CPU vs touch()'],
    ...subjects.map(([name], i) => [name, `${(cpu[i]! / counted).toFixed(0)} µs`, ms(wall[i]! / counted), i === 0 ? '' : `×${(cpu[i]! / cpu[0]!).toFixed(1)}`]),
  ]));
  await prisma.$disconnect();
}

await withClient(ADMIN, (c) => c.query(`DROP DATABASE IF EXISTS "${NAME}" WITH (FORCE)`));
console.log('\ndatabase kabinet_bench_queries dropped');
