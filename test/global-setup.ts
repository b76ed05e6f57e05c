/**
 * Runs once per test run: builds a template database with every migration applied. Each
 * test file then clones it (CREATE DATABASE ... TEMPLATE, a file copy) into its own database.
 * Names carry this run's pid, so several runs on one machine do not trip over each other.
 */
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrate } from '../src/infra/migrator.js';
import { TEST_PG_ADMIN_URL, databaseUrl } from './support/env.js';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
    runId: string;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runId = String(process.pid);
  const template = `kabinet_tpl_${runId}`;
  const admin = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
  await admin.connect();
  // Leftovers of runs that were killed before their teardown.
  const { rows } = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname ~ '^kabinet_(t|tpl)_[0-9]+'");
  for (const { datname } of rows) {
    const pid = Number(/^kabinet_(?:t|tpl)_(\d+)/.exec(datname)?.[1]);
    if (!alive(pid)) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  }
  await admin.query(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${template}"`);
  await migrate(databaseUrl(template), 'prisma/migrations');
  await admin.end();
  project.provide('templateDatabase', template);
  project.provide('runId', runId);
  return async () => {
    const c = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
    await c.connect();
    const { rows: mine } = await c.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1 OR datname = $2', [`kabinet_t_${runId}_%`, template]);
    for (const { datname } of mine) await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    await c.end();
  };
}
