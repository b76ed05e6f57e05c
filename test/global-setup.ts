/**
 * Runs once per test run: builds a template database with every migration applied. Each
 * test file then clones it (CREATE DATABASE ... TEMPLATE, a file copy) into its own database.
 * Names carry this machine's tag and a per-run id (pid + random part), and the run keeps a
 * PostgreSQL session named after its id while it lives, so parallel runs on this machine
 * (other worktrees) and runs of other machines on a shared server never drop each other's
 * databases (see support/test-run.ts).
 */
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrate } from '../src/infra/migrator.js';
import { TEST_PG_ADMIN_URL, databaseUrl } from './support/env.js';
import { leftoverDatabases, machineTag, newRunId, pidAlive, RUN_SESSION_PREFIX } from './support/test-run.js';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
    runId: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runId = newRunId();
  const template = `kabinet_tpl_${runId}`;
  // Held open for the whole run: it tells other runs this one is alive.
  const admin = new pg.Client({ connectionString: TEST_PG_ADMIN_URL, application_name: `${RUN_SESSION_PREFIX}${runId}` });
  // A dropped connection must not crash the run; the teardown reconnects if it has to.
  admin.on('error', () => undefined);
  await admin.connect();
  // Leftovers of this machine's runs that were killed before their teardown.
  const { rows } = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'kabinet\\_t%'");
  const { rows: sessions } = await admin.query<{ name: string }>('SELECT DISTINCT application_name AS name FROM pg_stat_activity WHERE starts_with(application_name, $1)', [RUN_SESSION_PREFIX]);
  const liveRuns = new Set(sessions.map((s) => s.name.slice(RUN_SESSION_PREFIX.length)));
  for (const datname of leftoverDatabases(rows.map((r) => r.datname), { machine: machineTag(), runId, alive: pidAlive, liveRuns })) {
    await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`).catch(() => undefined);
  }
  await admin.query(`CREATE DATABASE "${template}"`);
  await migrate(databaseUrl(template), 'prisma/migrations');
  project.provide('templateDatabase', template);
  project.provide('runId', runId);
  return async () => {
    let c = admin;
    try {
      await c.query('SELECT 1');
    } catch {
      c = new pg.Client({ connectionString: TEST_PG_ADMIN_URL, application_name: `${RUN_SESSION_PREFIX}${runId}` });
      c.on('error', () => undefined);
      await c.connect();
    }
    const { rows: mine } = await c.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1) OR datname = $2', [`kabinet_t_${runId}_`, template]);
    for (const { datname } of mine) await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    await c.end();
    if (c !== admin) await admin.end().catch(() => undefined);
  };
}
