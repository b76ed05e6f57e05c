/**
 * The sandbox's browser page and its small JSON API: chat as a demo person in Telegram or
 * VK (through the fake servers, so the bot sees exactly what real platforms would send),
 * read every "SMS" the sandbox sent, play the shop (order statuses, restocks and price drops
 * through the real, signed shop API; the webhooks Kabinet sends back), reset the demo, and
 * hear every change at once over server-sent events (`/sandbox/api/events`).
 *
 * Static files: `/sandbox/<name>.js|.css|.svg` from ./public (names checked against a strict
 * pattern, so no path can leave the folder). Panels of other features (`staff.js`,
 * `broadcasts.js`) are loaded by the page as ES modules from there.
 */
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { Config } from '../config/index.js';
import { DomainError } from '../errors.js';
import type { PrismaClient } from '../infra/prisma.js';
import type { Redis } from '../infra/redis.js';
import { verifySignature } from '../lib/signature.js';
import { chatOf, type ViewButton } from './chat-view.js';
import { createSandboxReset } from './reset.js';
import { SANDBOX_SHOP_WEBHOOK_PATH, type Sandbox, type SandboxPerson } from './sandbox.js';
import { sseFrame } from './sandbox-events.js';
import { createShopPanel } from './shop-panel.js';
import { ORDER_STATUSES } from './shop-rules.js';

export interface SandboxPluginOptions {
  sandbox: Sandbox;
  prisma: PrismaClient;
  redis: Redis;
  config: Pick<Config, 'loyalty' | 'redisKeyPrefix' | 'timeZone'>;
}

const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));
const PAGE = readFileSync(new URL('./public/index.html', import.meta.url), 'utf8');
/** A file name the page may ask for: one level, lower-case, no dots but the extension. */
const STATIC_NAME = /^[a-z0-9][a-z0-9-]{0,63}\.(js|css|svg)$/;
const MIME: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', svg: 'image/svg+xml' };
/** What a person may type in one message: Telegram's limit for a text message (VK allows more). */
export const MAX_TEXT = 4096;
/** Kept for the page's "webhooks the shop received" list. */
const MAX_WEBHOOKS = 100;
const HEARTBEAT_MS = 15_000;

function personOf(sandbox: Sandbox, key: string): SandboxPerson {
  const person = sandbox.people.find((p) => p.key === key);
  if (!person) throw new DomainError('not_found', `No sandbox person ${key}`, { field: 'person' });
  return person;
}

interface ReceivedWebhook { id: string; type: string; at: string; data: unknown }

export const sandboxPlugin: FastifyPluginAsync<SandboxPluginOptions> = async (app, { sandbox, prisma, redis, config }) => {
  const Key = Type.String({ minLength: 3, maxLength: 40 });
  const shop = createShopPanel({ app, prisma, secret: sandbox.shopSecret });
  const resetter = createSandboxReset({ prisma, redis, config, sandbox });
  const webhooks: ReceivedWebhook[] = [];
  const streams = new Set<ServerResponse>();

  // Popups: the text of a Telegram callback answer or a VK snackbar, which are not chat
  // messages, pushed to the page as `popup` events. Telegram's answer names only the query,
  // so presses remember whose query it was (the newest few hundred).
  const queryOwner = new Map<string, string>();
  const offTelegram = sandbox.telegram.onCall((call) => {
    if (call.token !== sandbox.telegramToken || call.method.toLowerCase() !== 'answercallbackquery' || !call.response.ok) return;
    const person = queryOwner.get(String(call.params.callback_query_id));
    const text = call.params.text;
    if (person && typeof text === 'string' && text) sandbox.push({ type: 'popup', data: { person, text, alert: call.params.show_alert === true || call.params.show_alert === 'true' } });
  });
  const offVk = sandbox.vk.onCall((call) => {
    if (call.groupId !== sandbox.vkGroupId || call.method !== 'messages.sendMessageEventAnswer' || call.error) return;
    try {
      const data = JSON.parse(call.params.event_data ?? '{}') as { type?: string; text?: string };
      if (data.type === 'show_snackbar' && data.text) sandbox.push({ type: 'popup', data: { person: `vk:${call.params.user_id}`, text: data.text, alert: false } });
    } catch {
      // Not JSON: the fake answered VK's error already; nothing to show.
    }
  });
  app.addHook('onClose', async () => {
    offTelegram();
    offVk();
  });

  app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/sandbox'));
  app.get('/sandbox', { schema: { hide: true } }, async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(PAGE));
  app.get('/favicon.ico', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/sandbox/favicon.svg', 301));

  app.get('/sandbox/:file', { schema: { hide: true, params: Type.Object({ file: Type.String({ maxLength: 80 }) }) } }, async (req, reply) => {
    const { file } = req.params as { file: string };
    const match = STATIC_NAME.exec(file);
    if (!match) throw new DomainError('not_found', `No sandbox file ${file}`);
    const content = await readFile(`${PUBLIC_DIR}${file}`).catch(() => undefined);
    if (content === undefined) throw new DomainError('not_found', `No sandbox file ${file}`);
    return reply.type(MIME[match[1]!]!).header('cache-control', 'no-cache').send(content);
  });

  app.get('/sandbox/api/info', { schema: { hide: true } }, async () => ({
    people: sandbox.people,
    timeZone: config.timeZone,
    maxText: MAX_TEXT,
    statuses: ORDER_STATUSES,
  }));
  app.get('/sandbox/api/people', { schema: { hide: true } }, async () => ({ people: sandbox.people }));

  // Server-sent events: one stream per open page; every change is pushed as { type, data }.
  app.get('/sandbox/api/events', { schema: { hide: true } }, (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    // The browser reconnects by itself after 2 s if the server restarts.
    res.write(`retry: 2000\n${sseFrame({ type: 'hello', data: { at: new Date().toISOString() } })}`);
    const unsubscribe = sandbox.events.subscribe((event) => { res.write(sseFrame(event)); });
    const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
    streams.add(res);
    req.raw.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(res);
    });
  });
  // Open streams never end by themselves: end them so closing the server does not wait on them.
  app.addHook('preClose', async () => {
    for (const res of streams) res.end();
  });

  app.get('/sandbox/api/chat', { schema: { hide: true, querystring: Type.Object({ person: Key }) } }, async (req) => {
    const person = personOf(sandbox, (req.query as { person: string }).person);
    return chatOf(sandbox, person);
  });

  app.get('/sandbox/api/sms', { schema: { hide: true } }, async () => ({ sms: sandbox.sms.inbox().reverse() }));

  app.post('/sandbox/api/send', { schema: { hide: true, body: Type.Object({ person: Key, text: Type.String({ minLength: 1, maxLength: 100_000 }) }) } }, async (req) => {
    const { person: key, text } = req.body as { person: string; text: string };
    const person = personOf(sandbox, key);
    if (!text.trim()) throw new DomainError('invalid_input', 'The message is empty', { field: 'text' });
    if (text.length > MAX_TEXT) throw new DomainError('invalid_input', `The message has ${text.length} characters; a message can have at most ${MAX_TEXT}. Shorten it and send again.`, { field: 'text', max: MAX_TEXT });
    if (person.platform === 'telegram') sandbox.telegram.sendText(sandbox.telegramToken, person.userId, text);
    else sandbox.vk.sendText(sandbox.vkGroupId, person.userId, text);
    return { ok: true };
  });

  app.post('/sandbox/api/press', {
    schema: { hide: true, body: Type.Object({ person: Key, kind: Type.Union([Type.Literal('callback'), Type.Literal('text'), Type.Literal('contact')]), label: Type.String({ maxLength: 200 }), messageId: Type.Optional(Type.Integer()), data: Type.Optional(Type.String({ maxLength: 300 })) }) },
  }, async (req) => {
    const body = req.body as { person: string; kind: ViewButton['kind']; label: string; messageId?: number; data?: string };
    const person = personOf(sandbox, body.person);
    try {
      if (person.platform === 'telegram') {
        if (body.kind === 'contact') {
          const [firstName] = person.name.split(' ');
          sandbox.telegram.sendContact(sandbox.telegramToken, person.userId, { phone: person.phone, firstName: firstName! });
        } else if (body.kind === 'callback') {
          const update = sandbox.telegram.pressButton(sandbox.telegramToken, person.userId, body.messageId ?? 0, body.data ?? '');
          if (update.callback_query) {
            queryOwner.set(update.callback_query.id, person.key);
            if (queryOwner.size > 500) queryOwner.delete(queryOwner.keys().next().value!);
          }
        } else sandbox.telegram.sendText(sandbox.telegramToken, person.userId, body.label);
      } else {
        sandbox.vk.pressButton(sandbox.vkGroupId, person.userId, body.label, body.messageId ? { conversationMessageId: body.messageId } : {});
      }
    } catch (err) {
      // A button the chat no longer shows: the page is stale, not the server broken.
      throw new DomainError('conflict', `That button is no longer in the chat (${(err as Error).message})`);
    }
    return { ok: true };
  });

  // ── The shop panel ──
  app.get('/sandbox/api/orders', { schema: { hide: true, querystring: Type.Object({ person: Key }) } }, async (req) => {
    const person = personOf(sandbox, (req.query as { person: string }).person);
    return { statuses: ORDER_STATUSES, orders: await shop.orders(person.phone) };
  });

  app.post('/sandbox/api/order-status', {
    schema: { hide: true, body: Type.Object({ number: Type.String({ minLength: 1, maxLength: 64 }), status: Type.Union(ORDER_STATUSES.map((s) => Type.Literal(s))) }) },
  }, async (req, reply) => {
    const { number, status } = req.body as { number: string; status: (typeof ORDER_STATUSES)[number] };
    const answer = await shop.moveOrder(number, status);
    if (answer.status < 300) sandbox.push({ type: 'orders', data: { number } });
    return reply.status(answer.status).type('application/json').send(answer.body);
  });

  app.get('/sandbox/api/products', { schema: { hide: true, querystring: Type.Object({ person: Key }) } }, async (req) => {
    const person = personOf(sandbox, (req.query as { person: string }).person);
    return { products: await shop.products(person.phone, person.language) };
  });

  const Sku = Type.Object({ sku: Type.String({ minLength: 1, maxLength: 100 }) });
  app.post('/sandbox/api/products/:sku/restock', {
    schema: { hide: true, params: Sku, body: Type.Object({ quantity: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) }) },
  }, async (req, reply) => {
    const { sku } = req.params as { sku: string };
    const answer = await shop.changeProduct(sku, { restock: (req.body as { quantity?: number }).quantity ?? 10 });
    if (answer.status < 300) sandbox.push({ type: 'products', data: { sku } });
    return reply.status(answer.status).type('application/json').send(answer.body);
  });
  app.post('/sandbox/api/products/:sku/price-drop', {
    schema: { hide: true, params: Sku, body: Type.Object({ percent: Type.Optional(Type.Integer({ minimum: 1, maximum: 90 })) }) },
  }, async (req, reply) => {
    const { sku } = req.params as { sku: string };
    const answer = await shop.changeProduct(sku, { dropPercent: (req.body as { percent?: number }).percent ?? 15 });
    if (answer.status < 300) sandbox.push({ type: 'products', data: { sku } });
    return reply.status(answer.status).type('application/json').send(answer.body);
  });

  app.get('/sandbox/api/webhooks', { schema: { hide: true } }, async () => ({ webhooks: [...webhooks].reverse() }));

  app.post('/sandbox/api/reset', { schema: { hide: true } }, async () => {
    await resetter.reset();
    webhooks.length = 0;
    return { ok: true };
  });

  // The demo shop's webhook receiver (SHOP_WEBHOOK_URL in the sandbox): checks the signature
  // on the raw body as a shop must, keeps the newest, and shows them on the page.
  await app.register(async (receiver) => {
    receiver.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    receiver.post(SANDBOX_SHOP_WEBHOOK_PATH, { schema: { hide: true } }, async (req, reply) => {
      const raw = typeof req.body === 'string' ? req.body : '';
      const check = verifySignature({ secret: sandbox.shopSecret, header: req.headers['kabinet-signature'] as string | undefined, rawBody: raw, toleranceSeconds: 300 });
      if (!check.ok) throw new DomainError('unauthorized', `Bad Kabinet-Signature: ${check.problem}`, { reason: check.problem });
      let envelope: { id?: unknown; type?: unknown; createdAt?: unknown; data?: unknown };
      try {
        envelope = JSON.parse(raw) as typeof envelope;
      } catch {
        throw new DomainError('invalid_input', 'The body is not JSON', { field: 'body' });
      }
      if (typeof envelope.id !== 'string' || typeof envelope.type !== 'string') throw new DomainError('invalid_input', 'The envelope needs id and type', { field: 'body' });
      // A retried delivery carries the same id: the shop keeps it once.
      if (!webhooks.some((w) => w.id === envelope.id)) {
        const entry = { id: envelope.id, type: envelope.type, at: typeof envelope.createdAt === 'string' ? envelope.createdAt : new Date().toISOString(), data: envelope.data ?? null };
        webhooks.push(entry);
        if (webhooks.length > MAX_WEBHOOKS) webhooks.shift();
        sandbox.push({ type: 'webhook', data: { id: entry.id, type: entry.type, at: entry.at } });
      }
      return reply.status(200).send({ ok: true });
    });
  });
};
