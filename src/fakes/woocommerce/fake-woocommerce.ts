/**
 * A look-alike of the WooCommerce REST API v3 (read side) and of WooCommerce's webhook
 * deliveries, for tests, benchmarks and the sandbox.
 *
 * - GET /wp-json/wc/v3/{customers,products,orders} and /products/:id/variations with `page`,
 *   `per_page` (1-100, default 10), `after` (orders), `order`; answers X-WP-Total and
 *   X-WP-TotalPages and a Link header, as WordPress does.
 * - Auth: HTTP Basic consumer_key:consumer_secret (or the consumer_key/consumer_secret query
 *   parameters); otherwise 401 `woocommerce_rest_cannot_view`.
 * - `throttle(n, retryAfterSeconds)`: the next n requests answer 429 with Retry-After, as a
 *   host's rate limiter in front of WordPress does (WooCommerce itself has none).
 * - `deliver(url, topic, resource)`: POSTs a webhook signed like WooCommerce (X-WC-Webhook-*
 *   headers, base64 HMAC-SHA256 of the body); `ping(url)` sends the unsigned "webhook_id=N".
 */
import { createHmac } from 'node:crypto';
import Fastify from 'fastify';
import { stringify as stringifyLossless } from 'lossless-json';

type Json = Record<string, unknown>;
export type WooResource = 'customers' | 'products' | 'orders';

export interface FakeWooCommerceOptions {
  consumerKey?: string;
  consumerSecret?: string;
  webhookSecret?: string;
}

export interface FakeWooCommerce {
  readonly consumerKey: string;
  readonly consumerSecret: string;
  readonly webhookSecret: string;
  /** Resources served by the REST API, by id. */
  add(resource: WooResource, item: Json): void;
  addVariation(productId: number, variation: Json): void;
  throttle(requests: number, retryAfterSeconds: number): void;
  /** Every REST request served, in order (path and query), for assertions. */
  readonly requests: Array<{ path: string; query: Record<string, string>; status: number }>;
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
  deliver(url: string, topic: string, resource: Json | string, options?: { deliveryId?: string; webhookId?: number; secret?: string }): Promise<Response>;
  ping(url: string, webhookId?: number): Promise<Response>;
}

export function wooSignature(secret: string, body: string | Buffer): string {
  return createHmac('sha256', secret).update(body).digest('base64');
}

export function createFakeWooCommerce(options: FakeWooCommerceOptions = {}): FakeWooCommerce {
  const consumerKey = options.consumerKey ?? 'ck_fake_0123456789abcdef';
  const consumerSecret = options.consumerSecret ?? 'cs_fake_0123456789abcdef';
  const webhookSecret = options.webhookSecret ?? 'woo-webhook-secret';
  const store: Record<WooResource, Map<number, Json>> = { customers: new Map(), products: new Map(), orders: new Map() };
  const variations = new Map<number, Json[]>();
  const requests: FakeWooCommerce['requests'] = [];
  let throttled = 0;
  let throttleSeconds = 1;
  let origin: string | null = null;
  let nextDelivery = 1000;

  const app = Fastify({ logger: false });

  const authorised = (headers: Record<string, unknown>, query: Record<string, string>) => {
    const header = typeof headers.authorization === 'string' ? headers.authorization : '';
    const basic = /^Basic (.+)$/.exec(header);
    if (basic) return Buffer.from(basic[1]!, 'base64').toString() === `${consumerKey}:${consumerSecret}`;
    return query.consumer_key === consumerKey && query.consumer_secret === consumerSecret;
  };

  function list(path: string, all: Json[], query: Record<string, string>, reply: { header(k: string, v: string): unknown }) {
    const perPage = query.per_page === undefined ? 10 : Number(query.per_page);
    const page = query.page === undefined ? 1 : Number(query.page);
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > 100) return { status: 400, body: { code: 'rest_invalid_param', message: 'Invalid parameter(s): per_page', data: { status: 400, params: { per_page: 'per_page must be between 1 (inclusive) and 100 (inclusive)' } } } };
    if (!Number.isInteger(page) || page < 1) return { status: 400, body: { code: 'rest_invalid_param', message: 'Invalid parameter(s): page', data: { status: 400 } } };
    let items = [...all];
    if (query.after) {
      const after = new Date(query.after).getTime();
      items = items.filter((i) => new Date(`${String(i.date_created_gmt)}Z`).getTime() > after);
    }
    items.sort((a, b) => Number(a.id) - Number(b.id));
    if (query.order === 'desc') items.reverse();
    const total = items.length;
    const totalPages = Math.ceil(total / perPage);
    reply.header('X-WP-Total', String(total));
    reply.header('X-WP-TotalPages', String(totalPages));
    const links: string[] = [];
    const link = (p: number) => `${origin}${path}?${new URLSearchParams({ ...query, page: String(p) })}`;
    if (page > 1) links.push(`<${link(page - 1)}>; rel="prev"`);
    if (page < totalPages) links.push(`<${link(page + 1)}>; rel="next"`);
    if (links.length) reply.header('Link', links.join(', '));
    return { status: 200, body: items.slice((page - 1) * perPage, page * perPage) };
  }

  app.get('/wp-json/wc/v3/*', async (request, reply) => {
    const path = request.url.split('?')[0]!;
    const query = request.query as Record<string, string>;
    const answer = (status: number, body: unknown) => {
      requests.push({ path, query, status });
      return reply.status(status).send(body);
    };
    if (throttled > 0) {
      throttled--;
      reply.header('Retry-After', String(throttleSeconds));
      return answer(429, { code: 'too_many_requests', message: 'Too Many Requests', data: { status: 429 } });
    }
    if (!authorised(request.headers, query)) return answer(401, { code: 'woocommerce_rest_cannot_view', message: 'Sorry, you cannot list resources.', data: { status: 401 } });
    const rest = path.replace('/wp-json/wc/v3/', '');
    const variationMatch = /^products\/(\d+)\/variations$/.exec(rest);
    if (variationMatch) {
      const r = list(path, variations.get(Number(variationMatch[1])) ?? [], query, reply);
      return answer(r.status, r.body);
    }
    if (rest === 'customers' || rest === 'products' || rest === 'orders') {
      const r = list(path, [...store[rest].values()], query, reply);
      return answer(r.status, r.body);
    }
    return answer(404, { code: 'rest_no_route', message: 'No route was found matching the URL and request method.', data: { status: 404 } });
  });

  return {
    consumerKey,
    consumerSecret,
    webhookSecret,
    requests,
    add(resource, item) {
      store[resource].set(Number(item.id), item);
    },
    addVariation(productId, variation) {
      variations.set(productId, [...(variations.get(productId) ?? []), variation]);
    },
    throttle(n, seconds) {
      throttled = n;
      throttleSeconds = seconds;
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
      const [name, event] = topic.split('.');
      const webhookId = opts.webhookId ?? 7;
      return fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)',
          'x-wc-webhook-source': 'https://shop.example/',
          'x-wc-webhook-topic': topic,
          'x-wc-webhook-resource': name ?? '',
          'x-wc-webhook-event': event ?? '',
          'x-wc-webhook-signature': wooSignature(opts.secret ?? webhookSecret, body),
          'x-wc-webhook-id': String(webhookId),
          // WooCommerce builds it from the webhook id and the current second, so it can repeat.
          'x-wc-webhook-delivery-id': opts.deliveryId ?? String(nextDelivery++),
        },
        body,
      });
    },
    async ping(url, webhookId = 7) {
      return fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)' }, body: `webhook_id=${webhookId}` });
    },
  };
}
