/** npm run db:migrate: creates the database if needed and applies pending migrations. */
import { loadConfig, loadDotEnv } from '../src/config/index.js';
import { ensureDatabase, migrate } from '../src/infra/migrator.js';

loadDotEnv();
const config = loadConfig();
await ensureDatabase(config.databaseUrl);
const { applied, skipped } = await migrate(config.databaseUrl, 'prisma/migrations', (line) => console.log(line));
console.log(applied.length ? `Applied ${applied.length} migration(s).` : `Database is up to date (${skipped.length} migration(s)).`);
