/**
 * A look-alike of the Shopify Admin REST API (read side) and of Shopify's webhook deliveries,
 * for tests, benchmarks and the sandbox.
 *
 * - GET /admin/api/<version>/{customers,products,orders}.json with `limit` (1-250, default 50)
 *   and cursor pagination: the Link header carries `page_info` for rel="next"/"previous"; a
 *   request with page_info accepts no other parameter but limit and fields (400 otherwise);
 *   orders default to status=open unless `status=any`; `created_at_min` filters orders.
 *   GET .../{resource}/count.json answers { count }.
 * - Auth: X-Shopify-Access-Token; otherwise 401 `[API] Invalid API key or access token`.
 * - The leaky bucket: 40 calls, draining 2 per second; every answer carries
 *   X-Shopify-Shop-Api-Call-Limit "used/40"; a call into a full bucket answers 429 with
 *   Retry-After "2.0" and Shopify's text.
 * - `deliver(url, topic, resource)`: POSTs a webhook as Shopify does (X-Shopify-Topic,
 *   X-Shopify-Hmac-Sha256 base64, X-Shopify-Webhook-Id, X-Shopify-Shop-Domain, ...).
 */
import { createHmac, randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { stringify as stringifyLossless } from 'lossless-json';

type Json = Record<string, unknown>;
export type ShopifyResource = 'customers' | 'products' | 'orders';

export interface FakeShopifyOptions {
  accessToken?: string;
  webhookSecret?: string;
  shopDomain?: string;
  /** Bucket size and drain per second; Shopify's standard plan: 40 and 2. */
  bucketSize?: number;
  leakPerSecond?: number;
  now?: () => number;
}

export interface FakeShopify {
  readonly accessToken: string;
  readonly webhookSecret: string;
  readonly shopDomain: string;
  add(resource: ShopifyResource, item: Json): void;
  readonly requests: Array<{ path: string; query: Record<string, string>; status: number; callLimit: string | null }>;
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
  deliver(url: string, topic: string, resource: Json | string, options?: { webhookId?: string; secret?: string }): Promise<Response>;
}

export function shopifySignature(secret: string, body: string | Buffer): string {
  return createHmac('sha256', secret).update(body).digest('base64');
}

export function createFakeShopify(options: FakeShopifyOptions = {}): FakeShopify {
  const accessToken = options.accessToken ?? 'shpat_fake_0123456789abcdef';
  const webhookSecret = options.webhookSecret ?? 'shopify-webhook-secret';
  const shopDomain = options.shopDomain ?? 'kabinet-demo.myshopify.com';
  const size = options.bucketSize ?? 40;
  const leak = options.leakPerSecond ?? 2;
  const now = options.now ?? (() => Date.now());
  const store: Record<ShopifyResource, Map<string, Json>> = { customers: new Map(), products: new Map(), orders: new Map() };
  const cursors = new Map<string, { resource: ShopifyResource; filter: Record<string, string>; after: number; direction: 'next' | 'prev' }>();
  const requests: FakeShopify['requests'] = [];
  let bucket = 0;
  let drainedAt = now();
  let origin: string | null = null;

  const app = Fastify({ logger: false });

  function take(): boolean {
    const t = now();
    bucket = Math.max(0, bucket - ((t - drainedAt) / 1000) * leak);
    drainedAt = t;
    if (bucket + 1 > size) return false;
    bucket += 1;
    return true;
  }

  function filtered(resource: ShopifyResource, filter: Record<string, string>): Json[] {
    let items = [...store[resource].values()].sort((a, b) => Number(a.id) - Number(b.id));
    if (resource === 'orders') {
      const status = filter.status ?? 'open';
      if (status === 'open') items = items.filter((o) => !o.closed_at && !o.cancelled_at);
      else if (status === 'closed') items = items.filter((o) => o.closed_at);
      else if (status === 'cancelled') items = items.filter((o) => o.cancelled_at);
      if (filter.created_at_min) {
        const min = new Date(filter.created_at_min).getTime();
        items = items.filter((o) => new Date(String(o.created_at)).getTime() >= min);
      }
    }
    return items;
  }

  app.get('/admin/api/:version/*', async (request, reply) => {
    const path = request.url.split('?')[0]!;
    const query = request.query as Record<string, string>;
    const answer = (status: number, body: unknown) => {
      const callLimit = reply.getHeader('x-shopify-shop-api-call-limit');
      requests.push({ path, query, status, callLimit: typeof callLimit === 'string' ? callLimit : null });
      return reply.status(status).send(body);
    };
    if (request.headers['x-shopify-access-token'] !== accessToken) return answer(401, { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' });
    if (!take()) {
      reply.header('Retry-After', '2.0');
      reply.header('X-Shopify-Shop-Api-Call-Limit', `${size}/${size}`);
      return answer(429, { errors: 'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.' });
    }
    reply.header('X-Shopify-Shop-Api-Call-Limit', `${Math.ceil(bucket)}/${size}`);
    const rest = path.replace(/^\/admin\/api\/[^/]+\//, '');
    const count = /^(customers|products|orders)\/count\.json$/.exec(rest);
    if (count) return answer(200, { count: filtered(count[1] as ShopifyResource, query).length });
    const listing = /^(customers|products|orders)\.json$/.exec(rest);
    if (!listing) return answer(404, { errors: 'Not Found' });
    const resource = listing[1] as ShopifyResource;
    const limit = query.limit === undefined ? 50 : Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 250) return answer(400, { errors: { limit: ['must be between 1 and 250'] } });
    let filter: Record<string, string>;
    let after = -1;
    if (query.page_info !== undefined) {
      const extra = Object.keys(query).filter((k) => !['page_info', 'limit', 'fields'].includes(k));
      if (extra.length) return answer(400, { errors: { page_info: ['If you use page_info, you can only use the limit and fields parameters'] } });
      const cursor = cursors.get(query.page_info);
      if (!cursor || cursor.resource !== resource) return answer(400, { errors: { page_info: ['Invalid value.'] } });
      filter = cursor.filter;
      after = cursor.after;
    } else {
      const { limit: _l, fields: _f, ...rest2 } = query;
      filter = rest2;
    }
    const all = filtered(resource, filter);
    const start = all.findIndex((i) => Number(i.id) > after);
    const page = start === -1 ? [] : all.slice(start, start + limit);
    const links: string[] = [];
    const last = page[page.length - 1];
    if (last && all.indexOf(last) < all.length - 1) {
      const token = randomUUID().replace(/-/g, '');
      cursors.set(token, { resource, filter, after: Number(last.id), direction: 'next' });
      links.push(`<${origin}${path}?limit=${limit}&page_info=${token}>; rel="next"`);
    }
    if (after !== -1 && page[0]) {
      const token = randomUUID().replace(/-/g, '');
      cursors.set(token, { resource, filter, after: -1, direction: 'prev' });
      links.unshift(`<${origin}${path}?limit=${limit}&page_info=${token}>; rel="previous"`);
    }
    if (links.length) reply.header('Link', links.join(', '));
    return answer(200, { [resource]: page });
  });

  return {
    accessToken,
    webhookSecret,
    shopDomain,
    requests,
    add(resource, item) {
      store[resource].set(String(item.id), item);
    },
    async listen(port = 0, host = '127.0.0.1') {
      origin = await app.listen({ port, host });
      return origin;
    },
    async close() {
      await app.close();
    },
    async deliver(url, topic, resource, opts = {}) {
      // Exact integers beyond 2^53 (Shopify's ids) survive when the resource holds LosslessNumbers.
      const body = typeof resource === 'string' ? resource : stringifyLossless(resource) ?? 'null';
      return fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-shopify-topic': topic,
          'x-shopify-hmac-sha256': shopifySignature(opts.secret ?? webhookSecret, body),
          'x-shopify-shop-domain': shopDomain,
          'x-shopify-api-version': '2025-01',
          'x-shopify-webhook-id': opts.webhookId ?? randomUUID(),
          'x-shopify-triggered-at': new Date(now()).toISOString(),
          'x-shopify-event-id': randomUUID(),
        },
        body,
      });
    },
  };
}
