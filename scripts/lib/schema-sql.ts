/**
 * Computes the SQL that brings one Prisma schema to another, offline, with Prisma 6's CLI
 * (installed as "prisma6") whose WebAssembly engine needs no download. Prisma 7's CLI wants
 * its native schema engine, which is not reachable everywhere (see README, "Migrations").
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const require = createRequire(import.meta.url);

/** Prisma 6 needs a url in the datasource and no prisma-client generator: make a copy that has them. */
function prisma6Copy(schema: string): string {
  return schema
    .replace(/generator\s+\w+\s*\{[^}]*\}/g, '')
    .replace(/datasource\s+db\s*\{([^}]*)\}/, (_m, body: string) => `datasource db {${body.replace(/\n\s*url\s*=.*\n/, '\n')}  url = "postgresql://unused@127.0.0.1/unused"\n}`);
}

/**
 * SQL from `from` (schema text, or null for an empty database) to `to` (schema text).
 * Prisma 6's JS engine opens a connection through the adapter even for a file-to-file diff,
 * so it needs some reachable PostgreSQL; nothing is read from or written to it.
 */
export async function schemaDiffSql(from: string | null, to: string, databaseUrl = 'postgresql://postgres@127.0.0.1:5432/postgres'): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'kabinet-schema-'));
  try {
    const toPath = join(dir, 'to.prisma');
    writeFileSync(toPath, prisma6Copy(to));
    const args = ['migrate', 'diff', '--config', join(dir, 'prisma6.config.mjs'), '--to-schema-datamodel', toPath, '--script'];
    if (from === null) args.push('--from-empty');
    else {
      const fromPath = join(dir, 'from.prisma');
      writeFileSync(fromPath, prisma6Copy(from));
      args.push('--from-schema-datamodel', fromPath);
    }
    const adapterPath = require.resolve('@prisma/adapter-pg');
    writeFileSync(
      join(dir, 'prisma6.config.mjs'),
      `import { PrismaPg } from ${JSON.stringify(adapterPath)};\n` +
        `export default { experimental: { adapter: true }, engine: 'js', schema: ${JSON.stringify(toPath)},\n` +
        `  async adapter() { return new PrismaPg({ connectionString: ${JSON.stringify(databaseUrl)} }); } };\n`,
    );
    const cli = resolve(require.resolve('prisma6/package.json'), '..', 'build', 'index.js');
    const { stdout } = await run(process.execPath, [cli, ...args], {
      env: { ...process.env, PRISMA_QUERY_ENGINE_LIBRARY: process.execPath, PRISMA_SCHEMA_ENGINE_BINARY: process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' },
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function readSchema(path = 'prisma/schema.prisma'): string {
  return readFileSync(path, 'utf8');
}
