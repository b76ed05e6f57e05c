/** Plain SQL on Prisma's pool (src/infra/sql.ts): its times, its parameters and its errors. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unavailableDependency } from '../../src/infra/dependency-errors.js';
import { createPrisma, sqlOf } from '../../src/infra/prisma.js';
import { parseUtcTimestamp, PostgresUnavailableError } from '../../src/infra/sql.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { freePort } from '../support/net.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => {
  await ctx?.close();
});

describe('sqlOf', () => {
  it('sends parameters as parameters and reads timestamp(3) as UTC', async () => {
    const sql = sqlOf(ctx.prisma);
    const at = new Date('2026-03-01T23:30:00.125Z');
    const [row] = await sql.rows<{ at: Date; text: string; n: number }>(`SELECT $1::timestamp(3) AS at, $2::text AS text, $3::int AS n`, [at, "x'); DROP TABLE customers; --", 7]);
    expect(row).toEqual({ at, text: "x'); DROP TABLE customers; --", n: 7 });
    expect(parseUtcTimestamp('2026-03-01 23:30:00.125')).toEqual(at);
    expect(parseUtcTimestamp('2026-03-01 23:30:00')).toEqual(new Date('2026-03-01T23:30:00Z'));
  });

  it('passes a statement error through as it is (a bug, not an outage)', async () => {
    const error = await sqlOf(ctx.prisma).rows('SELECT * FROM no_such_table', []).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: '42P01' });
    expect(unavailableDependency(error)).toBeUndefined();
  });

  it('calls a refused connection PostgreSQL being down', async () => {
    // A port that was just free: nothing listens on it.
    const port = await freePort();
    const prisma = createPrisma({ databaseUrl: `postgresql://kabinet:x@127.0.0.1:${port}/none` });
    try {
      const error = await sqlOf(prisma).rows('SELECT 1', []).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PostgresUnavailableError);
      expect(unavailableDependency(error)).toBe('postgres');
    } finally {
      await prisma.$disconnect();
    }
  });

  it('refuses a client it did not make', () => {
    expect(() => sqlOf({} as never)).toThrow(/createPrisma/);
  });
});
