import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.js';
import { createSql, type Sql } from './sql.js';

export type { PrismaClient };
export { Prisma } from '../generated/prisma/client.js';

export interface PrismaSettings {
  databaseUrl: string;
  /** Pool size per process; web and worker each hold their own pool. */
  maxConnections?: number;
}

const sqlByClient = new WeakMap<PrismaClient, Sql>();

/**
 * Prisma 7 client over node-postgres: no native query engine needed. The pool is made here
 * and handed to the adapter (which ends it on $disconnect), so the few hot statements that
 * skip Prisma's runtime ({@link sqlOf}) share its connections and its limit.
 */
export function createPrisma(settings: PrismaSettings): PrismaClient {
  const pool = new pg.Pool({
    connectionString: settings.databaseUrl,
    max: settings.maxConnections ?? 10,
    connectionTimeoutMillis: 5_000,
  });
  // Idle connections cut by the server (a restart) are dropped by the pool; the next query
  // opens a new one or fails as PostgreSQL being down. Without a listener it would crash the process.
  pool.on('error', () => {});
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  sqlByClient.set(prisma, createSql(pool));
  return prisma;
}

/**
 * Plain SQL on the client's own pool; the client must come from {@link createPrisma}. It stops
 * working once the client is disconnected (the pool is ended with it), which Kabinet's
 * processes do only when they stop.
 */
export function sqlOf(prisma: PrismaClient): Sql {
  const sql = sqlByClient.get(prisma);
  if (!sql) throw new Error('sqlOf: this PrismaClient was not made by createPrisma');
  return sql;
}
