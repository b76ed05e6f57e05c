import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate, pendingMigrations, readMigrations } from '../../src/infra/migrator.js';
import { createEmptyDatabase } from '../support/database.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => { for (const c of cleanups) await c(); });

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try { return (await c.query<T>(sql)).rows; } finally { await c.end(); }
}

describe('migrator', () => {
  it('applies every migration once and records it as Prisma does; a second run is a no-op', async () => {
    const db = await createEmptyDatabase();
    cleanups.push(db.drop);
    const all = readMigrations('prisma/migrations').map((m) => m.name);
    expect(all.length).toBeGreaterThan(0);

    expect(await pendingMigrations(db.url, 'prisma/migrations')).toEqual(all);
    const first = await migrate(db.url, 'prisma/migrations');
    expect(await pendingMigrations(db.url, 'prisma/migrations')).toEqual([]);
    expect(first.applied).toEqual(all);
    const second = await migrate(db.url, 'prisma/migrations');
    expect(second).toEqual({ applied: [], skipped: all });

    const rows = await query<{ migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number }>(
      db.url, 'SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name');
    expect(rows.map((r) => r.migration_name)).toEqual(all);
    expect(rows.every((r) => r.finished_at !== null && r.applied_steps_count === 1 && /^[0-9a-f]{64}$/.test(r.checksum))).toBe(true);
  });

  it('two processes migrating at once apply each migration once', async () => {
    const db = await createEmptyDatabase();
    cleanups.push(db.drop);
    const [a, b] = await Promise.all([migrate(db.url, 'prisma/migrations'), migrate(db.url, 'prisma/migrations')]);
    expect(a.applied.length + b.applied.length).toBe(readMigrations('prisma/migrations').length);
  });

  it('refuses a migration that was changed after it was applied, and changes nothing', async () => {
    const db = await createEmptyDatabase();
    cleanups.push(db.drop);
    const dir = mkdtempSync(join(tmpdir(), 'kabinet-migrations-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    cpSync('prisma/migrations', dir, { recursive: true });
    await migrate(db.url, dir);

    const first = readMigrations(dir)[0]!;
    const file = join(dir, first.name, 'migration.sql');
    writeFileSync(file, `${readFileSync(file, 'utf8')}\nCREATE TABLE "sneaky" (id int);\n`);
    await expect(migrate(db.url, dir)).rejects.toThrow(/was changed after it was applied/);
    const sneaky = await query(db.url, "SELECT 1 FROM information_schema.tables WHERE table_name = 'sneaky'");
    expect(sneaky).toHaveLength(0);
  });

  it('rolls back a failing migration and reports it', async () => {
    const db = await createEmptyDatabase();
    cleanups.push(db.drop);
    const dir = mkdtempSync(join(tmpdir(), 'kabinet-migrations-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    cpSync('prisma/migrations', dir, { recursive: true });
    const broken = join(dir, '99999999999999_broken');
    cpSync(join(dir, readMigrations(dir)[0]!.name), broken, { recursive: true });
    writeFileSync(join(broken, 'migration.sql'), 'CREATE TABLE "half" (id int);\nSELECT * FROM "no_such_table";\n');
    await expect(migrate(db.url, dir)).rejects.toThrow(/99999999999999_broken failed/);
    expect(await query(db.url, "SELECT 1 FROM information_schema.tables WHERE table_name = 'half'")).toHaveLength(0);
    await expect(migrate(db.url, dir)).rejects.toThrow(/failed earlier/);
  });
});
