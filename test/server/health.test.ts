/**
 * /health against a Redis this test owns (its own redis-server process), so stopping it
 * does not disturb other test files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInfrastructure, type Infrastructure } from '../../src/infra/infrastructure.js';
import { createWeb } from '../../src/web.js';
import { createTestDatabase } from '../support/database.js';
import { testConfig } from '../support/context.js';
import { freePort } from '../support/net.js';


async function startRedis(port: number): Promise<ChildProcess> {
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('Ready to accept connections')) resolve(); });
    proc.on('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  return proc;
}

let redisProc: ChildProcess;
let infra: Infrastructure;
let dropDb: () => Promise<void>;

beforeAll(async () => {
  const port = await freePort();
  redisProc = await startRedis(port);
  const db = await createTestDatabase();
  dropDb = db.drop;
  infra = await createInfrastructure(testConfig({ DATABASE_URL: db.url, REDIS_URL: `redis://127.0.0.1:${port}` }));
});

afterAll(async () => {
  redisProc.kill('SIGKILL');
  await infra.close();
  await dropDb();
});

describe('/health', () => {
  it('reports PostgreSQL and Redis separately, and 503 when Redis is down', async () => {
    const web = await createWeb(infra);
    const ok = await web.app.inject({ method: 'GET', url: '/health' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ status: 'ok', checks: { postgres: { status: 'ok' }, redis: { status: 'ok' } } });

    const exited = new Promise((r) => redisProc.once('exit', r));
    redisProc.kill('SIGTERM');
    await exited;
    const down = await web.app.inject({ method: 'GET', url: '/health' });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ status: 'fail', checks: { postgres: { status: 'ok' }, redis: { status: 'fail' } } });
    await web.app.close();
  });
});
