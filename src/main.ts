/**
 * Composition root. `tsx src/main.ts web|worker|all`: builds the clients from config,
 * starts the role(s), and on SIGTERM/SIGINT stops receiving, finishes in-flight work and
 * closes connections.
 */
import { ConfigError, loadConfig, loadDotEnv } from './config/index.js';
import { createInfrastructure } from './infra/infrastructure.js';
import { createWeb } from './web.js';
import { createWorkerRole } from './worker.js';

type Role = 'web' | 'worker' | 'all';

async function main(): Promise<void> {
  const role = (process.argv[2] ?? 'all') as Role;
  if (!['web', 'worker', 'all'].includes(role)) {
    console.error(`Unknown role "${role}". Use: web, worker or all.`);
    process.exit(2);
  }
  loadDotEnv();
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const infra = await createInfrastructure(config);
  const { logger } = infra;
  const stops: Array<() => Promise<void>> = [];

  if (role === 'worker' || role === 'all') {
    const worker = await createWorkerRole(infra);
    await worker.start();
    stops.push(() => worker.stop());
  }
  if (role === 'web' || role === 'all') {
    const web = await createWeb(infra);
    await web.start();
    stops.push(() => web.stop());
    logger.info({ port: config.http.port, host: config.http.host, sandbox: config.sandbox }, 'web listening');
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, 30_000);
    force.unref();
    try {
      // Web first (stop taking work), then workers (finish running jobs), then clients.
      for (const stop of stops.reverse()) await stop();
      await infra.close();
      logger.info('stopped');
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'error while shutting down');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
