/**
 * Composition root. `tsx src/main.ts web|worker|all`: builds the clients from config,
 * starts the role(s), and on SIGTERM/SIGINT stops receiving, finishes in-flight work and
 * closes connections.
 */
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, loadDotEnv } from './config/index.js';
import { createInfrastructure } from './infra/infrastructure.js';
import { pendingMigrations } from './infra/migrator.js';
import { startSandbox, type Sandbox } from './sandbox/sandbox.js';
import { createWeb } from './web.js';
import { createWorkerRole } from './worker.js';

type Role = 'web' | 'worker' | 'all';

const MIGRATIONS_DIR = fileURLToPath(new URL('../prisma/migrations', import.meta.url));

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
  // No bot tokens: run against the project's own fake Telegram and VK servers on loopback,
  // with a browser page to chat as demo customers. Both roles must share this process.
  let sandbox: Sandbox | undefined;
  if (config.sandbox) {
    if (role !== 'all') {
      console.error('The sandbox (no bot tokens configured) runs web and worker in one process: use `npm run dev`.');
      process.exit(2);
    }
    if (config.http.port === 0) {
      console.error('PORT=0 cannot be used in the sandbox: the fake messengers need to know where Kabinet listens.');
      process.exit(2);
    }
    sandbox = await startSandbox();
    config = loadConfig({ ...process.env, ...sandbox.env(`http://127.0.0.1:${config.http.port}`) });
  }
  // Code that expects columns the database lacks fails on every request; refuse to start instead.
  const pending = await pendingMigrations(config.databaseUrl, MIGRATIONS_DIR).catch((err: Error) => {
    console.error(`Cannot reach PostgreSQL at DATABASE_URL: ${err.message}`);
    process.exit(69); // EX_UNAVAILABLE
  });
  if (pending.length > 0) {
    console.error(`The database lacks ${pending.length} migration(s): ${pending.join(', ')}. Run \`npm run db:migrate\` first.`);
    process.exit(78);
  }
  const infra = await createInfrastructure(config);
  const { logger } = infra;
  const stops: Array<() => Promise<void>> = [];
  if (sandbox) stops.push(() => sandbox.close());

  if (role === 'worker' || role === 'all') {
    const worker = await createWorkerRole(infra, sandbox ? { sandbox } : {});
    await worker.start();
    stops.push(() => worker.stop());
  }
  if (role === 'web' || role === 'all') {
    const web = await createWeb(infra, sandbox ? { sandbox } : {});
    await web.start();
    stops.push(() => web.stop());
    logger.info({ port: config.http.port, host: config.http.host, sandbox: config.sandbox }, 'web listening');
    if (sandbox) {
      await sandbox.connect(`http://127.0.0.1:${config.http.port}`);
      logger.info(`Sandbox: open http://127.0.0.1:${config.http.port}/sandbox to chat with the bot as a demo customer`);
    }
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
