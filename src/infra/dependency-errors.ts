/**
 * Tells an error that means "Redis or PostgreSQL cannot be reached right now" from any other.
 * The HTTP edge answers those 503 with Retry-After (the platform or the shop retries, and
 * nothing was half-written: each write is one transaction or one script), logs them as a
 * warning without a stack, and keeps 500 for real bugs.
 */

/** 'network': a connection refused or cut, below either client (or to another service). */
export type Dependency = 'redis' | 'postgres' | 'network';

/** How long a caller should wait before retrying, in seconds: about one reconnect round. */
export const DEPENDENCY_RETRY_AFTER_SECONDS = 5;

// ioredis: a command given up while the connection is down (maxRetriesPerRequest), on a
// closed connection, without an offline queue, timed out; Redis still loading its AOF.
const REDIS_MESSAGES = [
  'Reached the max retries per request limit',
  'Connection is closed',
  "Stream isn't writeable",
  'Command timed out',
  'LOADING ',
  'MISCONF ',
  'READONLY ',
];

// node-postgres and PostgreSQL: refused or cut connections, a server shutting down or
// starting up, no free connection in the pool in time.
const PG_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'the database system is starting up',
  'the database system is shutting down',
  'the database system is in recovery mode',
  'terminating connection due to administrator command',
  'Client has encountered a connection error',
  "Can't reach database server",
  // Prisma's words for a pooled connection the server closed (a restart), e.g. in a raw query.
  'Server has closed the connection',
];
// SQLSTATE classes 08 (connection exception) and 57P (operator intervention), 53300 too many connections.
const PG_CODES = /^(08\d{3}|57P0[1-4]|53300)$/;
// Prisma: can't reach / timed out / server closed the connection / pool timeout.
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  cause?: unknown;
  meta?: unknown;
  errors?: unknown;
}

function classifyOne(err: ErrorLike): Dependency | undefined {
  const name = typeof err.name === 'string' ? err.name : '';
  const message = typeof err.message === 'string' ? err.message : '';
  const code = typeof err.code === 'string' ? err.code : '';
  if (name === 'MaxRetriesPerRequestError' || REDIS_MESSAGES.some((m) => message.startsWith(m) || message.includes(m))) return 'redis';
  if (name === 'PrismaClientInitializationError' || name === 'PostgresUnavailableError') return 'postgres';
  if (PRISMA_CODES.has(code) || PG_CODES.test(code)) return 'postgres';
  if (PG_MESSAGES.some((m) => message.includes(m))) return 'postgres';
  if (NETWORK_CODES.has(code)) return 'network';
  return undefined;
}

/** The dependency an error says is unavailable, looking through causes; undefined for other errors. */
export function unavailableDependency(error: unknown): Dependency | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    const found = classifyOne(current as ErrorLike);
    if (found) return found;
    const e = current as ErrorLike;
    // Prisma's driver adapters keep the original error under meta / cause.
    const meta = e.meta as { driverAdapterError?: unknown } | undefined;
    current = e.cause ?? meta?.driverAdapterError ?? (Array.isArray(e.errors) ? e.errors[0] : undefined);
  }
  return undefined;
}
