/**
 * Plain parameterised SQL on the very pool Prisma's adapter uses, for the few statements that
 * run on a messenger's hot path (a person's first contact: identities.touch()). touch()'s two
 * statements cost 1768 µs of the process's CPU through Prisma's client runtime and 852 µs sent
 * here (`npm run bench:queries` prints both), and a flood of new people (a campaign, a shared
 * link) meets that at once on the process that answers the webhooks. Everything else goes
 * through Prisma.
 *
 * What Prisma's adapter does for its own queries, done here too:
 * - `timestamp(3)` (Prisma's DateTime) is UTC without a zone: read as UTC whatever the
 *   process's TZ, and Dates are sent as ISO strings (node-postgres would send local time).
 *   Arrays of timestamps are not read specially: no statement here returns one.
 * - An unreachable server is PostgreSQL being down (503 and retry), not "the network":
 *   connection errors come out as {@link PostgresUnavailableError}.
 */
import pg from 'pg';
import { unavailableDependency } from './dependency-errors.js';

/** node-postgres' error for a refused or cut connection, named for what it means here. */
export class PostgresUnavailableError extends Error {
  override name = 'PostgresUnavailableError';
  constructor(cause: unknown) {
    super(`PostgreSQL cannot be reached: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

export interface Sql {
  /** Runs one statement with $1, $2… parameters and returns its rows. */
  rows<T>(text: string, values: readonly unknown[]): Promise<T[]>;
}

const TIMESTAMP_OID = 1114;

/** `2026-12-07 16:00:00.123` (no zone) as that instant in UTC. */
export function parseUtcTimestamp(value: string): Date {
  return new Date(`${value.replace(' ', 'T')}Z`);
}

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === TIMESTAMP_OID && format !== 'binary') return parseUtcTimestamp;
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

const toParameter = (value: unknown): unknown => (value instanceof Date ? value.toISOString() : value);

export function createSql(pool: pg.Pool): Sql {
  return {
    async rows<T>(text: string, values: readonly unknown[]): Promise<T[]> {
      try {
        const result = await pool.query({ text, values: values.map(toParameter), types });
        return result.rows as T[];
      } catch (error) {
        // ECONNREFUSED and its kin read as 'network' on their own; from this pool they mean PostgreSQL.
        if (unavailableDependency(error) === 'network') throw new PostgresUnavailableError(error);
        throw error;
      }
    },
  };
}
