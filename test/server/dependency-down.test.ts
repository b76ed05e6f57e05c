/**
 * The HTTP edge with a dependency down, against real servers: this file's own redis-server on
 * a spare port (killed, then started again on its append-only file), and a PostgreSQL URL on a
 * spare port where no server listens (a stopped server). A webhook or shop request that
 * cannot be recorded is answered 503 with Retry-After (the platform or the shop retries),
 * nothing is half-written, /health names what is down, and the clients reconnect by themselves.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInfrastructure, type Infrastructure } from '../../src/infra/infrastructure.js';
import { createRedis } from '../../src/infra/redis.js';
import { createPrisma } from '../../src/infra/prisma.js';
import { unavailableDependency } from '../../src/infra/dependency-errors.js';
import { signRequest } from '../../src/lib/signature.js';
import { TELEGRAM_WEBHOOK_PATH } from '../../src/channels/telegram/webhook.plugin.js';
import { createWeb, type Web } from '../../src/web.js';
import { createTestDatabase } from '../support/database.js';
import { testConfig } from '../support/context.js';
import { freePort } from '../support/net.js';
import { eventually } from '../bot/harness.js';

const TOKEN = '7000091:AAkabinet-dependency-down-test';
const SECRET = 'dependency-down_1';
const SHOP_SECRET = 'dependency-down-shop-secret-01';

let redisPort: number;
let redisDir: string;
let redisProc: ChildProcess | undefined;
let infra: Infrastructure;
let web: Web;
let dropDb: () => Promise<void>;

async function startRedis(): Promise<void> {
  const proc = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', redisDir, '--save', '', '--appendonly', 'yes'], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('Ready to accept connections')) resolve();
    });
    proc.on('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  redisProc = proc;
}

async function killRedis(): Promise<void> {
  const proc = redisProc!;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGKILL');
  await exited;
  redisProc = undefined;
}

const update = (id: number) => ({
  update_id: id,
  message: { message_id: id, date: Math.floor(Date.now() / 1000), text: '/help', from: { id: 5551, is_bot: false, first_name: 'Ivan' }, chat: { id: 5551, type: 'private', first_name: 'Ivan' } },
});
const postUpdate = (id: number) =>
  web.app.inject({ method: 'POST', url: TELEGRAM_WEBHOOK_PATH, headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET }, payload: JSON.stringify(update(id)) });

beforeAll(async () => {
  redisPort = await freePort();
  redisDir = mkdtempSync(join(tmpdir(), 'kabinet-test-redis-'));
  await startRedis();
  const db = await createTestDatabase();
  dropDb = db.drop;
  infra = await createInfrastructure(
    testConfig({ DATABASE_URL: db.url, REDIS_URL: `redis://127.0.0.1:${redisPort}`, LOG_LEVEL: 'silent', TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: 'http://127.0.0.1:9', TELEGRAM_WEBHOOK_SECRET: SECRET, SHOP_API_SECRET: SHOP_SECRET }),
  );
  web = await createWeb(infra);
}, 60_000);

afterAll(async () => {
  await web?.app.close();
  redisProc?.kill('SIGKILL');
  await infra?.close();
  await dropDb?.();
  rmSync(redisDir, { recursive: true, force: true });
});

describe('Redis down', () => {
  it('the Telegram webhook answers 503 with Retry-After and records nothing; once Redis is back it records again, reconnected by itself', async () => {
    expect((await postUpdate(1)).statusCode).toBe(200);

    await killRedis();
    const down = await postUpdate(2);
    expect(down.statusCode).toBe(503);
    expect(down.headers['retry-after']).toBe('5');
    expect(down.json()).toMatchObject({ error: 'unavailable', details: { retryAfterSeconds: 5 } });
    const health = await web.app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(503);
    expect(health.json()).toMatchObject({ status: 'fail', checks: { redis: { status: 'fail' }, postgres: { status: 'ok' } } });

    // Started again on its append-only file: what was recorded before is still there.
    await startRedis();
    await eventually(async () => (await web.app.inject({ method: 'GET', url: '/health' })).statusCode === 200, 1_500);
    // Update 1 was recorded before the crash (a repeat is answered, not queued again);
    // update 2 was refused, so Telegram's redelivery records it now.
    const telegramInbound = infra.config.redisKeyPrefix;
    const seen = async (id: number) => (await infra.redis.keys(`${telegramInbound}*in:seen:${id}`)).length;
    expect(await seen(1)).toBe(1);
    expect(await seen(2)).toBe(0);
    expect((await postUpdate(2)).statusCode).toBe(200);
    expect(await seen(2)).toBe(1);
  }, 60_000);
});

describe('PostgreSQL down', () => {
  it('the shop API answers 503 with Retry-After and /health names PostgreSQL', async () => {
    const deadPg = `postgresql://postgres@127.0.0.1:${await freePort()}/kabinet`;
    const other = await createInfrastructure(testConfig({ DATABASE_URL: deadPg, REDIS_URL: `redis://127.0.0.1:${redisPort}`, LOG_LEVEL: 'silent', SHOP_API_SECRET: SHOP_SECRET }));
    try {
      const w = await createWeb(other);
      const path = '/api/v1/orders/A-1/status';
      const body = JSON.stringify({ eventId: 'dep-down-1', status: 'shipped', occurredAt: new Date().toISOString() });
      const res = await w.app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/json', 'kabinet-signature': signRequest(SHOP_SECRET, { method: 'POST', path, body }) }, payload: body });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.json()).toMatchObject({ error: 'unavailable' });
      const health = await w.app.inject({ method: 'GET', url: '/health' });
      expect(health.statusCode).toBe(503);
      expect(health.json()).toMatchObject({ status: 'fail', checks: { postgres: { status: 'fail' }, redis: { status: 'ok' } } });
      await w.app.close();
    } finally {
      await other.close();
    }
  }, 30_000);
});

describe('unavailableDependency', () => {
  it('recognises the errors the real clients give for a server that is down, and nothing else', async () => {
    const port = await freePort();
    const redis = createRedis({ url: `redis://127.0.0.1:${port}`, role: 'client' });
    redis.on('error', () => undefined);
    const redisError = await redis.get('x').then(() => undefined, (e: unknown) => e);
    redis.disconnect();
    expect(unavailableDependency(redisError)).toBe('redis');

    const client = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:${port}/x` });
    const pgError = await client.connect().then(() => undefined, (e: unknown) => e);
    expect(unavailableDependency(pgError)).toBeDefined();

    const prisma = createPrisma({ databaseUrl: `postgresql://postgres@127.0.0.1:${port}/x` });
    const prismaError = await prisma.customer.count().then(() => undefined, (e: unknown) => e);
    await prisma.$disconnect();
    expect(unavailableDependency(prismaError)).toBe('postgres');

    // What Prisma raised in drill:postgres for a raw query on a connection the restart closed.
    expect(unavailableDependency(new Error('Invalid `prisma.$queryRaw()` invocation:\n\nRaw query failed. Code: `N/A`. Message: `Server has closed the connection.`'))).toBe('postgres');
    expect(unavailableDependency(new Error('Cannot read properties of undefined'))).toBeUndefined();
    expect(unavailableDependency(new TypeError('x is not a function'))).toBeUndefined();
  }, 30_000);
});
