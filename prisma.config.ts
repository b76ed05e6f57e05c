// Prisma CLI configuration (Prisma 7 reads no .env by itself).
// The CLI is a tool, not the app: it reads DATABASE_URL with the same default as src/config.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations', seed: 'tsx prisma/seed.ts' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/kabinet' },
});
