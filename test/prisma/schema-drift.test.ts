/**
 * The migrated database must be exactly what prisma/schema.prisma describes. Expected: the
 * SQL Prisma computes for the schema from empty, applied to a scratch database. Actual: the
 * template every test uses, built by running prisma/migrations through our migrator.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSchema, schemaDiffSql } from '../../scripts/lib/schema-sql.js';
import { createEmptyDatabase, createTestDatabase } from '../support/database.js';
import { describeDatabase, diffCatalogs, type CatalogDescription } from '../support/catalog.js';
import { TEST_PG_ADMIN_URL } from '../support/env.js';

let expectedSql: string;
let expected: CatalogDescription;
const cleanups: Array<() => Promise<void>> = [];

async function databaseFromSql(sql: string, after?: string): Promise<string> {
  const db = await createEmptyDatabase();
  cleanups.push(db.drop);
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  await c.query(sql);
  if (after) await c.query(after);
  await c.end();
  return db.url;
}

beforeAll(async () => {
  expectedSql = await schemaDiffSql(null, readSchema(), TEST_PG_ADMIN_URL);
  expected = await describeDatabase(await databaseFromSql(expectedSql));
}, 120_000);

afterAll(async () => {
  for (const drop of cleanups) await drop();
});

describe('schema drift', () => {
  it('the migrated database matches prisma/schema.prisma', async () => {
    const migrated = await createTestDatabase();
    cleanups.push(migrated.drop);
    const actual = await describeDatabase(migrated.url);
    expect(expected.columns.length).toBeGreaterThan(100);
    expect(expected.foreignKeys.length).toBeGreaterThan(10);
    expect(diffCatalogs(expected, actual)).toEqual([]);
  });

  it('catches a missing column, a lost unique index and a dropped foreign key', async () => {
    const drifted = await describeDatabase(
      await databaseFromSql(
        expectedSql,
        `ALTER TABLE "customers" DROP COLUMN "email";
         DROP INDEX "products_sku_key";
         ALTER TABLE "orders" DROP CONSTRAINT "orders_customerId_fkey";
         ALTER TABLE "addresses" ALTER COLUMN "city" DROP NOT NULL;`,
      ),
    );
    const problems = diffCatalogs(expected, drifted);
    expect(problems).toContain('columns: missing in migrated database: customers.email text null');
    expect(problems.some((p) => p.startsWith('indexes: missing') && p.includes('products: UNIQUE') && p.includes('(sku)'))).toBe(true);
    expect(problems.some((p) => p.startsWith('foreignKeys: missing') && p.includes('orders: FOREIGN KEY ("customerId")'))).toBe(true);
    expect(problems).toContain('columns: not in schema.prisma: addresses.city text null');
  });
});
