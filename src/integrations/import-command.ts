/**
 * `npm run import -- woocommerce|shopify [--days=N] [--restart]`: the initial import with a
 * progress bar per resource on the terminal (stderr), resumable where it stopped.
 */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { Infrastructure } from '../infra/infrastructure.js';
import { createShopServices } from '../shop-services.js';
import { createIngest } from './ingest.js';
import { runImport, type ImportProgress, type ImportResource, type ImportSummary } from './importer.js';
import { createShopifyClient, createWooCommerceClient, type PlatformClient } from './rest-clients.js';
import { createShopifyAdapter } from './shopify/adapter.js';
import { createWooCommerceAdapter } from './woocommerce/adapter.js';

export interface ImportArgs {
  platform: 'woocommerce' | 'shopify';
  days: number;
  restart: boolean;
}

export function parseImportArgs(argv: string[]): ImportArgs | string {
  const [platform, ...rest] = argv;
  if (platform !== 'woocommerce' && platform !== 'shopify') return 'usage: npm run import -- woocommerce|shopify [--days=365] [--restart]';
  let days = 365;
  let restart = false;
  for (const arg of rest) {
    const m = /^--days=(\d{1,5})$/.exec(arg);
    if (m) days = Number(m[1]);
    else if (arg === '--restart') restart = true;
    else return `unknown option ${arg}`;
  }
  return { platform, days, restart };
}

export interface ImportCommandOptions {
  /** Where the bars go; a TTY redraws, anything else gets a line per page. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Tests pass the look-alike's sleep-free client. */
  client?: PlatformClient;
}

export async function runImportCommand(infra: Infrastructure, args: ImportArgs, options: ImportCommandOptions = {}): Promise<ImportSummary> {
  const { config, prisma, clock } = infra;
  const stream = options.stream ?? process.stderr;
  const shop = createShopServices(infra);
  const ingest = createIngest({ prisma, afterWrite: shop.afterWrite, logger: infra.logger });
  // Tiers come from config; the import may run before any worker has written them.
  await shop.ledger.syncTiers(prisma);
  let client: PlatformClient;
  let apply: (resource: ImportResource, item: Record<string, unknown>) => Promise<'applied' | 'duplicate' | 'stale'>;
  if (args.platform === 'woocommerce') {
    const woo = config.integrations.woocommerce;
    if (!woo?.url || !woo.consumerKey || !woo.consumerSecret) throw new Error('Set WOOCOMMERCE_WEBHOOK_SECRET, WOOCOMMERCE_URL, WOOCOMMERCE_CONSUMER_KEY and WOOCOMMERCE_CONSUMER_SECRET');
    client = options.client ?? createWooCommerceClient({ url: woo.url, consumerKey: woo.consumerKey, consumerSecret: woo.consumerSecret });
    const adapter = createWooCommerceAdapter({ ingest, sync: shop.sync, config: woo, clock });
    const singular = { customers: 'customer', products: 'product', orders: 'order' } as const;
    apply = (resource, item) => adapter.apply(singular[resource], item, false);
  } else {
    const shopify = config.integrations.shopify;
    if (!shopify?.accessToken || !(shopify.apiBaseUrl || shopify.shopDomain)) throw new Error('Set SHOPIFY_WEBHOOK_SECRET, SHOPIFY_SHOP_DOMAIN and SHOPIFY_ACCESS_TOKEN');
    client = options.client ?? createShopifyClient({ baseUrl: shopify.apiBaseUrl ?? `https://${shopify.shopDomain}`, accessToken: shopify.accessToken, apiVersion: shopify.apiVersion });
    const adapter = createShopifyAdapter({ ingest, sync: shop.sync, config: shopify });
    apply = (resource, item) => (resource === 'orders' ? adapter.order(item, false) : resource === 'products' ? adapter.product(item, false) : adapter.customer(item));
  }

  const bars = new MultiBar({ stream, format: ' {resource} [{bar}] {value}/{total} ({failed} refused)', hideCursor: true, clearOnComplete: false, noTTYOutput: true, notTTYSchedule: 2000 }, Presets.shades_classic);
  const byResource = new Map<ImportResource, SingleBar>();
  const onProgress = (p: ImportProgress) => {
    const total = p.total ?? p.done;
    let bar = byResource.get(p.resource);
    if (!bar) {
      bar = bars.create(Math.max(total, p.done), p.done, { resource: p.resource.padEnd(9), failed: p.failed });
      byResource.set(p.resource, bar);
    }
    bar.setTotal(Math.max(total, p.done));
    bar.update(p.done, { failed: p.failed });
  };
  try {
    return await runImport({ platform: args.platform, client, prisma, ingest, apply, since: new Date(clock.now().getTime() - args.days * 86_400_000), restart: args.restart, onProgress });
  } finally {
    bars.stop();
  }
}
