/**
 * The initial import from a shop platform: customers, products, then recent orders, page by
 * page through the platform's REST API, each item applied like a webhook (without messaging
 * customers about their history). Where it stopped is saved after every page, so a second run
 * resumes there; `restart` starts over (every write is an idempotent upsert).
 */
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Ingest, IntegrationPlatform } from './ingest.js';
import { PlatformApiError, type PlatformClient } from './rest-clients.js';

export type ImportResource = 'customers' | 'products' | 'orders';
export const IMPORT_ORDER: ImportResource[] = ['customers', 'products', 'orders'];

export interface ImportProgress {
  resource: ImportResource;
  done: number;
  failed: number;
  total: number | null;
  finished: boolean;
}

export interface ImportOptions {
  platform: IntegrationPlatform;
  client: PlatformClient;
  prisma: PrismaClient;
  ingest: Ingest;
  /** Applies one item of a resource (the adapter's import path: no customer messages). */
  apply(resource: ImportResource, item: Record<string, unknown>): Promise<'applied' | 'duplicate' | 'stale'>;
  /** Orders created after this; customers and products are imported whole. */
  since?: Date;
  restart?: boolean;
  onProgress?: (p: ImportProgress) => void;
}

export interface ImportSummary {
  resources: Record<ImportResource, { imported: number; failed: number; resumed: boolean }>;
}

export async function runImport(opts: ImportOptions): Promise<ImportSummary> {
  const { prisma, platform } = opts;
  const summary = { resources: {} } as ImportSummary;
  if (opts.restart) await prisma.integrationImport.deleteMany({ where: { platform } });
  for (const resource of IMPORT_ORDER) {
    const key = { platform_resource: { platform, resource } };
    const saved = await prisma.integrationImport.findUnique({ where: key });
    let imported = saved?.imported ?? 0;
    let failed = saved?.failed ?? 0;
    let total = saved?.total ?? null;
    summary.resources[resource] = { imported, failed, resumed: saved !== null && !saved.done };
    if (saved?.done) {
      opts.onProgress?.({ resource, done: imported, failed, total, finished: true });
      continue;
    }
    let cursor = saved?.cursor ?? null;
    for (;;) {
      let page;
      try {
        page = await opts.client.page(resource, cursor, { since: opts.since });
      } catch (err) {
        // A saved cursor can expire (Shopify's page_info): start the resource over.
        if (cursor !== null && err instanceof PlatformApiError && err.status === 400) {
          cursor = null;
          continue;
        }
        throw err;
      }
      if (page.total !== null) total = page.total;
      for (const item of await expand(opts, resource, page.items)) {
        const status = await opts.ingest.handle(
          { platform, topic: `import/${resource}`, externalId: item.id === undefined ? null : String(item.id), payload: item },
          () => opts.apply(resource, item),
        );
        if (status === 'refused') failed++;
        else imported++;
      }
      cursor = page.next;
      const done = cursor === null;
      const data = { cursor, done, imported, failed, total };
      await prisma.integrationImport.upsert({ where: key, create: { platform, resource, ...data }, update: data });
      opts.onProgress?.({ resource, done: imported + failed, failed, total, finished: done });
      if (done) break;
    }
    summary.resources[resource] = { ...summary.resources[resource], imported, failed };
  }
  return summary;
}

/** A WooCommerce variable product is sold as its variations: fetch them, named after the parent. */
async function expand(opts: ImportOptions, resource: ImportResource, items: Array<Record<string, unknown>>): Promise<Array<Record<string, unknown>>> {
  if (resource !== 'products' || !opts.client.variations) return items;
  const out: Array<Record<string, unknown>> = [];
  for (const item of items) {
    if (item.type !== 'variable') {
      out.push(item);
      continue;
    }
    for (const variation of await opts.client.variations(String(item.id))) {
      const options = Array.isArray(variation.attributes) ? variation.attributes.map((a) => (a as { option?: unknown }).option).filter((o) => typeof o === 'string') : [];
      out.push({
        ...variation,
        type: 'variation',
        name: typeof variation.name === 'string' && variation.name ? variation.name : [item.name, ...options].join(' — '),
        permalink: variation.permalink ?? item.permalink,
        images: variation.image ? [variation.image] : item.images,
      });
    }
  }
  return out;
}
