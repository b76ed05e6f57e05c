import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';

export type { PrismaClient };
export { Prisma } from '../generated/prisma/client.js';

export interface PrismaSettings {
  databaseUrl: string;
  /** Pool size per process; web and worker each hold their own pool. */
  maxConnections?: number;
}

/** Prisma 7 client over node-postgres: no native query engine needed. */
export function createPrisma(settings: PrismaSettings): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: settings.databaseUrl,
    max: settings.maxConnections ?? 10,
    connectionTimeoutMillis: 5_000,
  });
  return new PrismaClient({ adapter });
}
