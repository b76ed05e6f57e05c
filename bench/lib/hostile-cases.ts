/**
 * Hostile requests for bench/hostile.ts: for one route of the running app, one request of a
 * given family (malformed JSON, wrong content type, oversized, truncated, bad signature,
 * random bytes, deep nesting, huge numbers, odd Unicode, wrong method, path traversal, long
 * URL, header games, a valid signature over a body the route must refuse).
 *
 * Every body sent with valid credentials is built to be invalid for its route (an unknown
 * property where the schema is closed, a required field missing or of the wrong type), so a
 * 2xx that writes is Kabinet's defect, not the generator's. The exceptions are documented
 * where they are made (shop-platform webhooks store what they refuse).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { signRequest } from '../../src/lib/signature.js';

export type Auth = 'telegram' | 'staff' | 'vk' | 'shop' | 'admin' | 'woocommerce' | 'shopify' | 'metrics' | 'none';

export interface RouteInfo {
  method: string;
  /** Fastify's pattern, e.g. /api/v1/orders/:number/status */
  path: string;
  auth: Auth;
  /** The route's body cap in bytes (413 above it). */
  cap: number;
}

export interface Credentials {
  telegramSecret: string;
  staffSecret: string;
  vkSecret: string;
  vkGroupId: number;
  shopSecret: string;
  adminToken: string;
  wooSecret: string;
  shopifySecret: string;
  metricsToken: string;
}

export interface HostileRequest {
  family: string;
  /** "METHOD /pattern" the request aims at (the histogram's row). */
  route: string;
  method: string;
  /** Request target as sent. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** chunked: Transfer-Encoding chunked; truncate: declares more than it sends and hangs up; chunked-truncate: stops mid-stream and hangs up. */
  mode: 'normal' | 'chunked' | 'truncate' | 'chunked-truncate';
  /** Whether the credentials were valid (so a 401/403 is not the expected answer). */
  signed: boolean;
}

/** A small seeded PRNG (mulberry32), so a run is repeatable. */
export function createRng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
    chance: (p: number) => next() < p,
  };
}
export type Rng = ReturnType<typeof createRng>;

const ODD_STRINGS = [
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff\ud800',
  '\ufeff',
  '\u202eevil\u202c',
  '\u0301\u0301\u0301',
  '𝕂𝕒𝕓𝕚𝕟𝕖𝕥',
  '😀'.repeat(50),
  '\u2028\u2029',
  '\u00a0',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '${jndi:ldap://x}',
  '__proto__',
  '{{7*7}}',
  '%s%s%s%n',
  '\r\nSet-Cookie: x=1',
  '../../../../etc/passwd',
  'x'.repeat(5000),
];

const HUGE_NUMBERS = ['1e400', '-1e400', '18446744073709551616', '9007199254740993', '-0', '1e-400', '123456789012345678901234567890', '0.0000000000000000000000001', '1E+308', '-9223372036854775809'];

const MALFORMED_JSON = ['{', '{"a":', '{"a":1,}', "{'a':1}", '[1,2,', '{"a":1}{"b":2}', 'nul', 'tru', '{"a":"\\x41"}', '{"a":"\\ud800"}', '{"a" 1}', '\u0000{}', '{"a":01}', '{"a":NaN}', '{"a":Infinity}', '{,}', '"unterminated', '{"__proto__":{"polluted":1}', '/* c */ {}', ''];

const CONTENT_TYPES = ['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', 'application/octet-stream', 'application/vnd.api+json', 'image/png', '*/*', 'application/json, text/plain', ';;;', 'application/JSON'];

const TRAVERSAL = ['../', '..%2f', '%2e%2e%2f', '%2e%2e/', '..%5c', '%252e%252e%252f', '..;/', '%c0%ae%c0%ae/', '.%00./', '%00', '//', '/./'];

const PARAM_VALUES = ['A-1', 'DEMO-1001', '00000000-0000-0000-0000-000000000000', 'not-a-uuid', '..%2F..%2Fetc%2Fpasswd', '%00', '%E0%A4%A', '%F0%9F%98%80', 'x'.repeat(300), '%2e%2e', "1'%20OR%20'1'='1", '-1', '9'.repeat(40), '%20', 'null', '__proto__', 'constructor'];

/** Fills :params of a pattern with hostile or plain values. */
export function fillPath(pattern: string, rng: Rng): string {
  return pattern.replace(/:[A-Za-z_]+/g, () => rng.pick(PARAM_VALUES)).replace(/\*$/, () => rng.pick(['index.html', 'x', '../../package.json', '..%2f..%2fpackage.json', '%00', 'swagger-ui.css']));
}

/** A JSON object nested `depth` levels deep, as text (never built as an object). */
const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

const unknownKey = (rng: Rng) => `hostile_${rng.int(1e6)}`;

/**
 * A JSON body the route must refuse even with valid credentials: its schema is closed, or a
 * required field is missing or of the wrong type. `payload` is what goes where the route's
 * data would.
 */
function invalidObject(route: RouteInfo, creds: Credentials, rng: Rng, payload: unknown): Record<string, unknown> {
  switch (route.auth) {
    case 'telegram':
    case 'staff':
      // update_id required, an integer ≥ 0: missing, of the wrong type, negative.
      return rng.pick([{ message: payload }, { update_id: String(payload).slice(0, 50), message: payload }, { update_id: -1 - rng.int(1000), x: payload }, { update_id: null }, { update_id: 1.5, callback_query: payload }]);
    case 'vk':
      // type and group_id required, event_id required past the secret; another group is refused.
      return rng.pick([
        { type: 'message_new', group_id: creds.vkGroupId, secret: creds.vkSecret, object: payload },
        { type: 'message_new', group_id: creds.vkGroupId + 1, event_id: `e${rng.int(1e9)}`, secret: creds.vkSecret, object: payload },
        { type: 12, group_id: creds.vkGroupId, event_id: 'e1', secret: creds.vkSecret, object: payload },
        { group_id: String(creds.vkGroupId), event_id: 'e1', secret: creds.vkSecret },
        { type: 'message_new', group_id: creds.vkGroupId, event_id: '', secret: creds.vkSecret, object: payload },
        { type: 'message_new', group_id: creds.vkGroupId, event_id: 'e'.repeat(200), secret: creds.vkSecret, object: payload },
        { type: 'message_new', group_id: creds.vkGroupId, event_id: 'e2', secret: creds.vkSecret, object: [payload] },
      ]);
    default:
      // Every shop and admin schema is closed (additionalProperties: false).
      return rng.pick([{ [unknownKey(rng)]: payload }, { eventId: payload, [unknownKey(rng)]: 1 }, { eventId: 'hostile-1', items: payload, [unknownKey(rng)]: true }]);
  }
}

/** Headers (and for VK the body's secret) that make the request pass or fail authentication. */
function authenticate(req: HostileRequest, route: RouteInfo, creds: Credentials, valid: boolean, rng: Rng): void {
  const body = req.body ?? Buffer.alloc(0);
  const wrong = rng.pick(['', 'x', 'wrong-secret-0123456789', 'Bearer', '\u00ff\u00fe', 'a'.repeat(300)]);
  switch (route.auth) {
    case 'telegram':
    case 'staff': {
      const secret = route.auth === 'telegram' ? creds.telegramSecret : creds.staffSecret;
      if (valid) req.headers['x-telegram-bot-api-secret-token'] = secret;
      else if (rng.chance(0.7)) req.headers['x-telegram-bot-api-secret-token'] = rng.pick([wrong, secret.slice(0, -1), `${secret}x`, secret.toUpperCase(), route.auth === 'telegram' ? creds.staffSecret : creds.telegramSecret]);
      return;
    }
    case 'vk':
      return; // in the body (built by the families)
    case 'shop': {
      if (valid) {
        req.headers['kabinet-signature'] = signRequest(creds.shopSecret, { method: req.method, path: req.path, body });
        return;
      }
      const t = Math.floor(Date.now() / 1000);
      const sig = (secret: string, ts: number, b: Buffer | string, method = req.method, path = req.path) => `t=${ts},v1=${createHmac('sha256', secret).update(`${ts}.${method}.${path}.`).update(b).digest('hex')}`;
      req.headers['kabinet-signature'] = rng.pick([
        sig('wrong-secret-0123456789', t, body),
        sig(creds.shopSecret, t - 3600, body), // stale
        sig(creds.shopSecret, t + 3600, body), // from the future
        sig(creds.shopSecret, t, Buffer.concat([body, Buffer.from(' ')])), // replayed for another body
        sig(creds.shopSecret, t, body, 'GET'), // replayed for another method
        sig(creds.shopSecret, t, body, req.method, '/api/v1/customers'), // replayed for another path
        sig(creds.shopSecret, t, body).replace('v1=', 'v0='),
        `t=${t}`,
        `v1=${'0'.repeat(64)}`,
        `t=${t},v1=${'z'.repeat(64)}`,
        `t=${'9'.repeat(20)},v1=${'0'.repeat(64)}`,
        `t=${t},${Array.from({ length: 20 }, () => `v1=${'a'.repeat(64)}`).join(',')}`,
        'x'.repeat(3000),
        '',
        ',,,,=,=',
      ]);
      return;
    }
    case 'admin':
    case 'metrics': {
      const token = route.auth === 'admin' ? creds.adminToken : creds.metricsToken;
      if (valid) req.headers.authorization = `Bearer ${token}`;
      else if (rng.chance(0.8)) req.headers.authorization = rng.pick([`Bearer ${wrong}`, `Basic ${Buffer.from(`admin:${token}`).toString('base64')}`, token, `Bearer ${token.slice(1)}`, 'Bearer ', `bearer  ${token}x`, `Bearer ${route.auth === 'admin' ? creds.metricsToken : creds.adminToken}`]);
      return;
    }
    case 'woocommerce':
    case 'shopify': {
      const header = route.auth === 'woocommerce' ? 'x-wc-webhook-signature' : 'x-shopify-hmac-sha256';
      const secret = route.auth === 'woocommerce' ? creds.wooSecret : creds.shopifySecret;
      if (route.auth === 'woocommerce') req.headers['x-wc-webhook-topic'] = rng.pick(['order.updated', 'product.created', 'customer.updated', 'unknown.topic', '']);
      else req.headers['x-shopify-topic'] = rng.pick(['orders/updated', 'products/create', 'customers/update', 'shop/redact', '']);
      const b64 = (s: string, b: Buffer) => createHmac('sha256', s).update(b).digest('base64');
      if (valid) req.headers[header] = b64(secret, body);
      else if (rng.chance(0.8)) req.headers[header] = rng.pick([b64('wrong-secret', body), b64(secret, Buffer.concat([body, Buffer.from('x')])), '', '!!!not base64!!!', 'A'.repeat(5000), b64(secret, body).slice(0, 20)]);
      return;
    }
    case 'none':
      return;
  }
}

const families = [
  'malformed-json',
  'wrong-content-type',
  'oversized',
  'oversized-chunked',
  'truncated',
  'bad-signature',
  'random-bytes',
  'deep-nesting',
  'huge-numbers',
  'odd-unicode',
  'wrong-method',
  'path-traversal',
  'long-url',
  'header-games',
  'signed-invalid-body',
] as const;
export type Family = (typeof families)[number];
export const FAMILIES: readonly Family[] = families;

const jsonBuffer = (v: unknown) => Buffer.from(JSON.stringify(v));
const OTHER_METHODS = ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'PROPFIND', 'TRACE', 'post'];

/** One hostile request of `family` at `route`. */
export function hostileRequest(route: RouteInfo, family: Family, creds: Credentials, rng: Rng): HostileRequest {
  const req: HostileRequest = { family, route: `${route.method} ${route.path}`, method: route.method, path: fillPath(route.path, rng), headers: {}, mode: 'normal', signed: true };
  const json = (buf: Buffer, type = 'application/json') => {
    req.body = buf;
    req.headers['content-type'] = type;
  };
  const hasBody = route.method !== 'GET' && route.method !== 'HEAD';
  // The VK secret sits in the body: a raw (non-object) body cannot carry it; add it as text.
  const vkSigned = (text: string) => (route.auth === 'vk' ? `{"secret":${JSON.stringify(creds.vkSecret)},"x":${text}}` : text);
  let valid = true;

  switch (family) {
    case 'malformed-json':
      json(Buffer.from(route.auth === 'vk' && rng.chance(0.5) ? `{"secret":${JSON.stringify(creds.vkSecret)},${rng.pick(MALFORMED_JSON)}` : rng.pick(MALFORMED_JSON)));
      break;
    case 'wrong-content-type': {
      const body = jsonBuffer(invalidObject(route, creds, rng, { hello: 'world' }));
      json(body, rng.pick(CONTENT_TYPES));
      if (rng.chance(0.15)) delete req.headers['content-type'];
      break;
    }
    case 'oversized': {
      // Over the cap by a little or a lot; the length is declared.
      const size = route.cap + 1 + (rng.chance(0.5) ? 0 : rng.int(route.cap));
      const head = route.auth === 'vk' ? `{"secret":${JSON.stringify(creds.vkSecret)},"type":"message_new","x":"` : '{"x":"';
      const buf = Buffer.alloc(size, 0x61);
      buf.write(head, 0);
      json(buf);
      break;
    }
    case 'oversized-chunked': {
      // No Content-Length: the server only learns the size by reading.
      const size = route.cap + 1 + rng.int(64 * 1024);
      const buf = Buffer.alloc(size, 0x62);
      buf.write(route.auth === 'vk' ? `{"secret":${JSON.stringify(creds.vkSecret)},"x":"` : '{"x":"', 0);
      json(buf);
      req.mode = 'chunked';
      break;
    }
    case 'truncated': {
      // Declares more than it sends, then hangs up (or, chunked, stops mid-chunk).
      json(Buffer.from(vkSigned(JSON.stringify(invalidObject(route, creds, rng, 'truncated')))));
      req.mode = rng.chance(0.5) ? 'truncate' : 'chunked-truncate';
      if (req.mode === 'chunked-truncate') req.body = req.body!.subarray(0, Math.max(1, req.body!.length >> 1));
      break;
    }
    case 'bad-signature': {
      valid = false;
      const body = route.auth === 'vk'
        ? jsonBuffer(rng.pick([
            { type: 'message_new', group_id: creds.vkGroupId, event_id: `e${rng.int(1e9)}`, secret: 'wrong', object: { message: { from_id: 1, peer_id: 1, text: 'hi' } } },
            { type: 'message_new', group_id: creds.vkGroupId, event_id: `e${rng.int(1e9)}`, object: { message: { from_id: 1, peer_id: 1, text: 'x'.repeat(2000) } } },
            { type: 'message_new', group_id: creds.vkGroupId, event_id: `e${rng.int(1e9)}`, secret: creds.vkSecret.slice(0, -1), object: {} },
            { type: 'message_new', group_id: creds.vkGroupId, event_id: `e${rng.int(1e9)}`, secret: 12345, object: {} },
            { type: 'message_new', group_id: creds.vkGroupId, event_id: `e${rng.int(1e9)}`, secret: [creds.vkSecret], object: {} },
          ]))
        : jsonBuffer(route.auth === 'telegram' || route.auth === 'staff' ? { update_id: 1 + rng.int(1e6), message: { message_id: 1, date: 0, chat: { id: 1, type: 'private' }, from: { id: 1, is_bot: false, first_name: 'x' }, text: '/start' } } : { eventId: `forged-${rng.int(1e9)}`, hello: 1 });
      if (hasBody) json(body);
      break;
    }
    case 'random-bytes': {
      valid = rng.chance(0.5);
      const bytes = randomBytes(rng.int(4096) + 1);
      req.body = route.auth === 'vk' && valid ? Buffer.concat([Buffer.from(`{"secret":${JSON.stringify(creds.vkSecret)},`), bytes]) : bytes;
      req.headers['content-type'] = rng.pick(['application/json', 'application/octet-stream', 'text/plain']);
      break;
    }
    case 'deep-nesting': {
      // Deeper than any route takes (shop API 32, Telegram 64, VK 256), up to far deeper.
      const deep = rng.chance(0.5) ? deepObject(rng.pick([300, 1000, 20_000, 100_000])) : deepArray(rng.pick([300, 1000, 50_000, 200_000]));
      // Half inside an envelope the route would otherwise take (an update, an event), so the
      // depth itself is what must be refused, not a missing field.
      const text = !rng.chance(0.5)
        ? vkSigned(deep)
        : route.auth === 'telegram' || route.auth === 'staff'
          ? `{"update_id":${1 + rng.int(1e6)},"message":${deep}}`
          : route.auth === 'vk'
            ? `{"type":"message_new","group_id":${creds.vkGroupId},"event_id":"deep${rng.int(1e9)}","secret":${JSON.stringify(creds.vkSecret)},"object":${deep.startsWith('{') ? deep : `{"message":${deep}}`}}`
            : `{"eventId":"deep-${rng.int(1e9)}","${unknownKey(rng)}":${deep}}`;
      json(Buffer.from(text));
      break;
    }
    case 'huge-numbers': {
      const n = rng.pick(HUGE_NUMBERS);
      const text = route.auth === 'telegram' || route.auth === 'staff'
        ? `{"update_id":${n}}`
        : route.auth === 'vk'
          ? `{"type":"message_new","group_id":${n},"event_id":"e1","secret":${JSON.stringify(creds.vkSecret)}}`
          : `{"eventId":"e1","${unknownKey(rng)}":${n},"points":${n}}`;
      json(Buffer.from(text));
      break;
    }
    case 'odd-unicode': {
      const s = rng.pick(ODD_STRINGS);
      // Batch routes take an envelope whose items are checked one by one: a valid envelope of
      // refused items (answered 200, the items' errors quoting their keys) half the time.
      const batch = route.auth === 'shop' && route.path.endsWith('/batch') && rng.chance(0.5);
      const obj = batch ? { eventId: `odd-${rng.int(1e9)}`, items: ODD_STRINGS.map((o) => ({ sku: o, number: o, phone: o, externalId: o, name: o, price: o, [o]: o })) } : invalidObject(route, creds, rng, { [s]: s, name: s, phone: s });
      if (rng.chance(0.3)) {
        // Bytes that are not UTF-8 at all (overlong NUL, a lone continuation byte, a cut sequence).
        const text = JSON.stringify(obj);
        json(Buffer.concat([Buffer.from(text.slice(0, -1)), Buffer.from(`,"bad":"`), Buffer.from(rng.pick([[0xc0, 0x80], [0x80], [0xe2, 0x82], [0xff, 0xfe], [0xed, 0xa0, 0x80]])), Buffer.from('"}')]));
      } else json(jsonBuffer(obj));
      break;
    }
    case 'wrong-method':
      req.method = rng.pick(OTHER_METHODS.filter((m) => m !== route.method));
      if (rng.chance(0.5)) json(jsonBuffer(invalidObject(route, creds, rng, 1)));
      break;
    case 'path-traversal': {
      const t = rng.pick(TRAVERSAL);
      const segments = req.path.split('/');
      const at = 1 + rng.int(Math.max(1, segments.length - 1));
      segments.splice(at, 0, ...Array.from({ length: 1 + rng.int(4) }, () => t.replace(/\/$/, '')));
      req.path = rng.chance(0.3) ? `${req.path}${t}${rng.pick(['etc/passwd', '.env', 'package.json', 'api/admin/outbox', 'sandbox'])}` : segments.join('/');
      if (hasBody) json(jsonBuffer(invalidObject(route, creds, rng, 't')));
      break;
    }
    case 'long-url': {
      const size = rng.pick([2_000, 9_000, 15_000, 70_000]);
      req.path = rng.chance(0.5) ? `${req.path}?${'q'.repeat(8)}=${'x'.repeat(size)}` : `${req.path.replace(/\/[^/]*$/, '')}/${'y'.repeat(size)}`;
      if (hasBody) json(jsonBuffer(invalidObject(route, creds, rng, 'u')));
      break;
    }
    case 'header-games': {
      if (hasBody) json(jsonBuffer(invalidObject(route, creds, rng, 'h')));
      const game = rng.int(5);
      if (game === 0) req.headers['content-length'] = rng.pick(['-1', 'abc', '1e3', '99999999999999999999', '0x10']);
      if (game === 1) req.headers['content-encoding'] = rng.pick(['gzip', 'br', 'deflate', 'x-unknown']);
      if (game === 2) req.headers['x-forwarded-for'] = Array.from({ length: 500 }, (_, i) => `10.0.${i % 255}.1`).join(', ');
      if (game === 3) req.headers.cookie = 'a'.repeat(7000);
      if (game === 4) req.headers['content-type'] = `application/json; ${'p=1;'.repeat(1000)}`;
      break;
    }
    case 'signed-invalid-body':
      json(jsonBuffer(invalidObject(route, creds, rng, rng.pick([null, 0, -1, [], {}, 'x', ...ODD_STRINGS.slice(0, 5), { nested: { deeper: [1, 2, { x: 'y' }] } }]))));
      break;
  }
  if (!hasBody && req.method === route.method && family !== 'wrong-method' && !(family === 'random-bytes' || family === 'oversized' || family === 'oversized-chunked')) {
    // GET routes: the body families become a body on a GET (which must be ignored or refused).
    if (rng.chance(0.5)) delete req.body;
  }
  authenticate(req, route, creds, valid, rng);
  req.signed = valid;
  return req;
}
