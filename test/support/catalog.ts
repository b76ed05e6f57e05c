/**
 * A comparable description of a PostgreSQL schema: tables, columns (type, nullability,
 * default), enums, indexes (unique or not, columns) and foreign keys. Two databases built
 * from the same schema give equal descriptions, whatever their names.
 */
import pg from 'pg';

export interface CatalogDescription {
  enums: string[];
  columns: string[];
  indexes: string[];
  foreignKeys: string[];
  primaryKeys: string[];
}

export async function describeDatabase(url: string, schema = 'public'): Promise<CatalogDescription> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const enums = await c.query<{ line: string }>(
      `SELECT t.typname || ' = ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) AS line
         FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = $1 GROUP BY t.typname ORDER BY 1`, [schema]);
    const columns = await c.query<{ line: string }>(
      `SELECT table_name || '.' || column_name || ' ' || udt_name
              || coalesce('(' || character_maximum_length || ')', '')
              || coalesce('(' || numeric_precision || ',' || numeric_scale || ')', '')
              || CASE WHEN is_nullable = 'YES' THEN ' null' ELSE ' not null' END
              || coalesce(' default ' || column_default, '') AS line
         FROM information_schema.columns
        WHERE table_schema = $1 AND table_name <> '_prisma_migrations' ORDER BY 1`, [schema]);
    const indexes = await c.query<{ line: string }>(
      `SELECT tablename || ': ' || regexp_replace(indexdef, '^CREATE (UNIQUE )?INDEX \\S+ ON \\S+ ', '\\1') AS line
         FROM pg_indexes WHERE schemaname = $1 AND tablename <> '_prisma_migrations' ORDER BY 1`, [schema]);
    const constraints = await c.query<{ kind: string; line: string }>(
      `SELECT con.contype AS kind, rel.relname || ': ' || pg_get_constraintdef(con.oid) AS line
         FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid JOIN pg_namespace n ON n.oid = rel.relnamespace
        WHERE n.nspname = $1 AND con.contype IN ('f', 'p') AND rel.relname <> '_prisma_migrations' ORDER BY 2`, [schema]);
    return {
      enums: enums.rows.map((r) => r.line),
      columns: columns.rows.map((r) => r.line),
      indexes: indexes.rows.map((r) => r.line).sort(),
      foreignKeys: constraints.rows.filter((r) => r.kind === 'f').map((r) => r.line),
      primaryKeys: constraints.rows.filter((r) => r.kind === 'p').map((r) => r.line),
    };
  } finally {
    await c.end();
  }
}

/** Human-readable differences: "missing in migrated: ..." / "unexpected in migrated: ...". */
export function diffCatalogs(expected: CatalogDescription, actual: CatalogDescription): string[] {
  const out: string[] = [];
  for (const key of Object.keys(expected) as Array<keyof CatalogDescription>) {
    const a = new Set(actual[key]);
    const e = new Set(expected[key]);
    for (const line of e) if (!a.has(line)) out.push(`${key}: missing in migrated database: ${line}`);
    for (const line of a) if (!e.has(line)) out.push(`${key}: not in schema.prisma: ${line}`);
  }
  return out;
}
