/**
 * npm run bench:shop: the shop API alone (benchmark 6 of `npm run bench`, scenarios/shop-api.ts):
 * signed status changes per second against a bare Fastify baseline in the same run, then
 * status → message latency at a fixed offered rate with the worker running. Owns the bench
 * database (BENCH_RUN=<name> for its own) and its Redis keys; about 1.5 minutes, watchdog at 6.
 *
 * BENCH_SHOP_SECONDS (5) per closed-loop row, BENCH_SHOP_CONCURRENCY (16,32), BENCH_SHOP_ORDERS
 * (2000), BENCH_SHOP_E2E_RATE (50) and BENCH_SHOP_E2E_SECONDS (10); BENCH_CPU_PROF=<dir> writes
 * a .cpuprofile of every process it starts.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { DATABASE_NAME, deleteBenchKeys, dropDatabase, freshDatabase, machine } from './lib/setup.js';
import { killShopBenchChildren, printShopApiFigures, runShopApiBenchmark, shopApiOptionsFromEnv } from './scenarios/shop-api.js';

const BUDGET_MS = 360_000;
const watchdog = setTimeout(() => {
  console.error(`bench:shop: still running after ${BUDGET_MS / 1000} s; giving up (the database ${DATABASE_NAME} is left for inspection)`);
  killShopBenchChildren();
  process.exit(2);
}, BUDGET_MS);
watchdog.unref();

const began = performance.now();
const log = (line: string) => console.log(`[${((performance.now() - began) / 1000).toFixed(1)} s] ${line}`);
const options = shopApiOptionsFromEnv();
console.log(`Kabinet shop API benchmark — ${new Date().toISOString()}`);
console.log(`Machine: ${machine()}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
log(`removed ${await deleteBenchKeys()} Redis keys of earlier runs`);
await freshDatabase();
log(`database ${DATABASE_NAME}: migrated and seeded`);
try {
  const figures = await runShopApiBenchmark(options, log);
  await dropDatabase();
  log(`done; database ${DATABASE_NAME} dropped; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  console.log(printShopApiFigures(figures));
  process.exit(0);
} catch (err) {
  console.error(err);
  killShopBenchChildren();
  process.exit(1);
}
