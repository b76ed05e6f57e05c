/**
 * npm run import -- woocommerce|shopify [--days=365] [--restart]
 * The initial import from the shop's platform (README, "WooCommerce" / "Shopify").
 */
import { loadConfig, loadDotEnv } from '../src/config/index.js';
import { createInfrastructure } from '../src/infra/infrastructure.js';
import { parseImportArgs, runImportCommand } from '../src/integrations/import-command.js';

loadDotEnv();
const args = parseImportArgs(process.argv.slice(2));
if (typeof args === 'string') {
  console.error(args);
  process.exit(2);
}
const infra = await createInfrastructure(loadConfig());
try {
  const summary = await runImportCommand(infra, args);
  for (const [resource, r] of Object.entries(summary.resources)) {
    console.log(`${resource}: ${r.imported} imported, ${r.failed} refused${r.resumed ? ' (resumed)' : ''}`);
  }
  console.log('Refused items are listed by GET /api/admin/integrations/events?status=refused');
} catch (err) {
  console.error(`Import stopped: ${(err as Error).message}\nRun the same command again to resume where it stopped.`);
  process.exitCode = 1;
} finally {
  await infra.close();
}
