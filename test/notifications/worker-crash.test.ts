/**
 * A send worker process killed with SIGKILL while a message is in flight: another worker
 * takes over, and every customer gets the notification exactly once (counted at the fake).
 * A proxy in front of the fake Telegram holds one response, so the kill lands in the middle
 * of a send every time, not by luck.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTelegramSender } from '../../src/channels/telegram-sender.js';
import type { OutboundSender, Platform } from '../../src/channels/outbound.js';
import { createFakeTelegram, type FakeTelegram } from '../../src/fakes/telegram/index.js';
import { notifyCustomer, type PendingNotification } from '../../src/notifications/producer.js';
import { createNotificationRenderer } from '../../src/notifications/render.js';
import { createNotificationDispatcher } from '../../src/notifications/send-queue.js';
import { startSendWorkers } from '../../src/notifications/send.worker.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { createOrder, createProduct } from '../support/factories.js';
import { customerInTelegram, sentTo } from './support.js';

const TOKEN = '7000002:AAtest_crash_token_xxxxxxxxxx';
const COUNT = 12;
let ctx: TestContext;
let fake: FakeTelegram;
let proxy: Server;
let child: ChildProcess | undefined;
let holdChat: string | undefined;
let heldResolve: () => void;
const held = new Promise<void>((r) => { heldResolve = r; });

beforeAll(async () => {
  ctx = await createTestContext({ env: { QUEUE_LOCK_DURATION_MS: '1000' } });
  fake = createFakeTelegram();
  const fakeRoot = await fake.listen();
  fake.createBot({ token: TOKEN, username: 'kabinet_crash_bot' });
  // Forwards to the fake; the response to `holdChat` is never returned (the fake has it).
  proxy = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      const upstream = await fetch(`${fakeRoot}${req.url}`, { method: req.method, headers: { 'content-type': req.headers['content-type'] ?? 'application/json' }, body: body || undefined });
      const text = await upstream.text();
      if (holdChat && body.includes(`"chat_id":"${holdChat}"`)) {
        heldResolve();
        return;
      }
      res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(text);
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  child?.kill('SIGKILL');
  await ctx?.close();
  proxy?.closeAllConnections();
  await new Promise((r) => proxy?.close(r));
  await fake?.close();
});

describe('a send worker killed mid-job', () => {
  it('leaves every notification delivered exactly once', async () => {
    const product = await createProduct(ctx.prisma);
    const people = [];
    const pending: PendingNotification[] = [];
    for (let i = 0; i < COUNT; i++) {
      const who = await customerInTelegram(ctx.prisma, fake, TOKEN);
      const order = await createOrder(ctx.prisma, who.customer.id, { items: [{ product, quantity: 1, price: 100 }], events: [{ status: 'shipped', occurredAt: new Date() }] });
      const event = await ctx.prisma.orderStatusEvent.findFirstOrThrow({ where: { orderId: order.id } });
      pending.push(...(await ctx.prisma.$transaction((tx) => notifyCustomer(tx, { customerId: who.customer.id, kind: 'order-status', cause: event.id, payload: { orderId: order.id, statusEventId: event.id, status: 'shipped' } }))));
      people.push(who);
    }
    expect(pending).toHaveLength(COUNT);
    holdChat = String(people[4]!.user.id);
    const dispatcher = createNotificationDispatcher({ prisma: ctx.prisma, queues: ctx.queues, logger: ctx.logger, sendAttempts: 5, sendBackoffMs: 50 });
    await dispatcher.dispatch(pending);

    const proxyRoot = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    child = fork('test/notifications/send-worker.process.ts', [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, NODE_ENV: 'test', DATABASE_URL: ctx.config.databaseUrl, REDIS_URL: ctx.config.redisUrl, QUEUE_PREFIX: ctx.config.queuePrefix, TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: proxyRoot, QUEUE_LOCK_DURATION_MS: '1000', LOG_LEVEL: 'silent' },
      stdio: 'ignore',
    });
    await held;
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    const sentBeforeTakeover = fake.calls(TOKEN).filter((c) => c.method === 'sendMessage').length;
    expect(sentBeforeTakeover).toBeLessThan(COUNT);

    // A second worker (this process) takes over the stalled job and the rest of the queue.
    startSendWorkers({
      prisma: ctx.prisma,
      queues: ctx.queues,
      logger: ctx.logger,
      clock: ctx.clock,
      render: createNotificationRenderer({ prisma: ctx.prisma, translator: ctx.translator }),
      senders: new Map<Platform, OutboundSender>([['telegram', createTelegramSender({ token: TOKEN, apiRoot: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` })]]),
      ratePerSecond: { telegram: 30, vk: 20 },
      lockDurationMs: 1000,
    });
    await vi.waitFor(async () => expect(await ctx.prisma.notification.count({ where: { status: 'pending' } })).toBe(0), { timeout: 20_000, interval: 100 });

    for (const who of people) expect(sentTo(fake, TOKEN, who.user.id), `chat ${who.user.id}`).toHaveLength(1);
    const rows = await ctx.prisma.notification.findMany({ select: { status: true, error: true, identityId: true } });
    expect(rows.filter((r) => r.status === 'sent')).toHaveLength(COUNT - 1);
    // The one cut mid-send reached the platform, but nobody could know: it is not sent again.
    const cut = rows.find((r) => r.status !== 'sent')!;
    expect(cut).toMatchObject({ status: 'failed', identityId: people[4]!.identity.id });
    expect(cut.error).toContain('outcome_unknown');
  }, 60_000);
});
