/**
 * Runs once per test run: builds a template database with every migration applied. Each
 * test file then clones it (CREATE DATABASE ... TEMPLATE, a file copy) into its own database.
 */
import pg from 'pg';
import { migrate } from '../src/infra/migrator.js';
import { TEMPLATE_DB, TEST_PG_ADMIN_URL, databaseUrl } from './support/env.js';

export default async function setup(): Promise<() => Promise<void>> {
  const admin = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
  await admin.connect();
  // Leftovers of an interrupted earlier run.
  const { rows } = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'kabinet_t\\_%' OR datname = $1", [TEMPLATE_DB]);
  for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${TEMPLATE_DB}"`);
  await migrate(databaseUrl(TEMPLATE_DB), 'prisma/migrations');
  await admin.end();
  return async () => {
    const c = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS "${TEMPLATE_DB}" WITH (FORCE)`);
    await c.end();
  };
}
