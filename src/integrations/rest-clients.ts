/**
 * Read-only clients for the initial import: the WooCommerce REST API (page numbers, X-WP-Total)
 * and the Shopify Admin REST API (cursor pagination through Link headers, the leaky-bucket
 * call limit in X-Shopify-Shop-Api-Call-Limit). Both wait out 429 for Retry-After.
 */

export interface Page {
  items: Array<Record<string, unknown>>;
  /** Cursor of the next page (a page number or Shopify's page_info); null on the last page. */
  next: string | null;
  total: number | null;
}

export interface PlatformClient {
  /** `cursor` null starts at the first page. `since` limits orders to those created after it. */
  page(resource: 'customers' | 'products' | 'orders', cursor: string | null, options?: { since?: Date }): Promise<Page>;
  /** Variations of a variable product (WooCommerce only). */
  variations?(productId: string): Promise<Array<Record<string, unknown>>>;
}

export class PlatformApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'PlatformApiError';
  }
}

interface FetchDeps {
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Retries of one request after 429 or 5xx before giving up. */
  maxRetries?: number;
  /** Called when the client waits (rate limit), for the progress line. */
  onWait?: (ms: number, why: string) => void;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** GET with 429 (Retry-After) and 5xx retried a bounded number of times. */
async function getJson(url: string, headers: Record<string, string>, deps: FetchDeps): Promise<{ body: unknown; headers: Headers }> {
  const doFetch = deps.fetch ?? fetch;
  const sleep = deps.sleep ?? defaultSleep;
  const maxRetries = deps.maxRetries ?? 8;
  for (let attempt = 0; ; attempt++) {
    let response: Response;
    try {
      response = await doFetch(url, { headers: { accept: 'application/json', ...headers }, signal: AbortSignal.timeout(30_000) });
    } catch (err) {
      if (attempt >= maxRetries) throw err;
      await sleep(Math.min(30_000, 500 * 2 ** attempt));
      continue;
    }
    if (response.status === 429 || response.status >= 500) {
      await response.body?.cancel();
      if (attempt >= maxRetries) throw new PlatformApiError(response.status, `${response.status} from ${new URL(url).pathname} after ${attempt + 1} tries`);
      const retryAfter = Number(response.headers.get('retry-after'));
      const wait = Number.isFinite(retryAfter) && retryAfter > 0 ? Math.ceil(retryAfter * 1000) : Math.min(30_000, 500 * 2 ** attempt);
      deps.onWait?.(wait, response.status === 429 ? 'rate limited' : `server error ${response.status}`);
      await sleep(wait);
      continue;
    }
    if (!response.ok) {
      const text = (await response.text()).slice(0, 300);
      throw new PlatformApiError(response.status, `${response.status} from ${new URL(url).pathname}: ${text}`);
    }
    return { body: await response.json(), headers: response.headers };
  }
}

const items = (body: unknown, key?: string): Array<Record<string, unknown>> => {
  const list = key ? (body as Record<string, unknown> | null)?.[key] : body;
  if (!Array.isArray(list)) throw new PlatformApiError(200, `unexpected answer: ${key ? `no "${key}" list` : 'not a list'}`);
  return list as Array<Record<string, unknown>>;
};

export interface WooCommerceClientOptions extends FetchDeps {
  url: string;
  consumerKey: string;
  consumerSecret: string;
  perPage?: number;
}

export function createWooCommerceClient(options: WooCommerceClientOptions): PlatformClient {
  const base = `${options.url.replace(/\/+$/, '')}/wp-json/wc/v3`;
  const auth = { authorization: `Basic ${Buffer.from(`${options.consumerKey}:${options.consumerSecret}`).toString('base64')}` };
  const perPage = options.perPage ?? 100;
  return {
    async page(resource, cursor, opts = {}) {
      const page = cursor ? Number(cursor) : 1;
      const query = new URLSearchParams({ page: String(page), per_page: String(perPage), orderby: resource === 'customers' ? 'id' : 'id', order: 'asc' });
      if (resource === 'orders' && opts.since) query.set('after', opts.since.toISOString());
      const { body, headers } = await getJson(`${base}/${resource}?${query}`, auth, options);
      const totalPages = Number(headers.get('x-wp-totalpages') ?? '0');
      const total = headers.get('x-wp-total');
      return { items: items(body), next: page < totalPages ? String(page + 1) : null, total: total === null ? null : Number(total) };
    },
    async variations(productId) {
      const out: Array<Record<string, unknown>> = [];
      for (let page = 1; ; page++) {
        const { body, headers } = await getJson(`${base}/products/${encodeURIComponent(productId)}/variations?page=${page}&per_page=${perPage}`, auth, options);
        out.push(...items(body));
        if (page >= Number(headers.get('x-wp-totalpages') ?? '1')) return out;
      }
    },
  };
}

export interface ShopifyClientOptions extends FetchDeps {
  /** https://my-shop.myshopify.com (or a look-alike). */
  baseUrl: string;
  accessToken: string;
  apiVersion: string;
  limit?: number;
}

/** The page_info of Link's rel="next", if any. */
export function nextPageInfo(link: string | null): string | null {
  if (!link) return null;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (m) return new URL(m[1]!).searchParams.get('page_info');
  }
  return null;
}

export function createShopifyClient(options: ShopifyClientOptions): PlatformClient {
  const base = `${options.baseUrl.replace(/\/+$/, '')}/admin/api/${options.apiVersion}`;
  const auth = { 'x-shopify-access-token': options.accessToken };
  const limit = options.limit ?? 250;
  const sleep = options.sleep ?? defaultSleep;

  /** Keeps the leaky bucket (2 calls/s drain) from filling: wait while it is over half full. */
  async function pace(headers: Headers): Promise<void> {
    const m = /^(\d+)\/(\d+)$/.exec(headers.get('x-shopify-shop-api-call-limit') ?? '');
    if (!m) return;
    const used = Number(m[1]);
    const size = Number(m[2]);
    if (used > size / 2) {
      const wait = Math.ceil(((used - size / 2) / 2) * 1000);
      options.onWait?.(wait, `call limit ${used}/${size}`);
      await sleep(wait);
    }
  }

  async function get(path: string) {
    const result = await getJson(`${base}/${path}`, auth, options);
    await pace(result.headers);
    return result;
  }

  return {
    async page(resource, cursor, opts = {}) {
      const query = new URLSearchParams({ limit: String(limit) });
      // With page_info Shopify accepts no other filter: the cursor carries them.
      if (cursor) query.set('page_info', cursor);
      else if (resource === 'orders') {
        query.set('status', 'any');
        if (opts.since) query.set('created_at_min', opts.since.toISOString());
      }
      const { body, headers } = await get(`${resource}.json?${query}`);
      let total: number | null = null;
      if (!cursor) {
        const countQuery = new URLSearchParams(resource === 'orders' ? { status: 'any', ...(opts.since ? { created_at_min: opts.since.toISOString() } : {}) } : {});
        const count = await get(`${resource}/count.json?${countQuery}`);
        const n = (count.body as { count?: unknown }).count;
        total = typeof n === 'number' ? n : null;
      }
      return { items: items(body, resource), next: nextPageInfo(headers.get('link')), total };
    },
  };
}
