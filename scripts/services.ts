/** npm run services: PostgreSQL and Redis are reachable, or started with Docker Compose, or we say what to do. */
import { ConfigError, loadConfig, loadDotEnv } from '../src/config/index.js';
import { ensureServices, realServicesDeps } from './lib/services.js';

loadDotEnv();
let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(78);
  }
  throw err;
}
const outcome = await ensureServices(
  [
    { name: 'PostgreSQL', service: 'postgres', url: config.databaseUrl, variable: 'DATABASE_URL' },
    { name: 'Redis', service: 'redis', url: config.redisUrl, variable: 'REDIS_URL' },
  ],
  realServicesDeps(),
);
if (!outcome.ok) {
  for (const line of outcome.message) console.error(line);
  process.exit(69); // EX_UNAVAILABLE
}
