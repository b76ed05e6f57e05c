/**
 * The entry point as a process: bad configuration and a database behind on migrations stop
 * it at start with a clear message; a started Kabinet (sandbox mode, both roles) answers
 * /health and stops cleanly on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { createEmptyDatabase, createTestDatabase } from './support/database.js';
import { TEST_REDIS_URL } from './support/env.js';
import { freePort } from './support/net.js';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => { for (const c of cleanups) await c(); });

interface Run { code: number | null; stdout: string; stderr: string }

function start(env: Record<string, string>, role = 'all') {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', role], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'info', REDIS_URL: TEST_REDIS_URL, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<Run>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  const waitFor = async (text: string) => {
    for (let i = 0; i < 300 && !stdout.includes(text); i++) await new Promise((r) => setTimeout(r, 100));
    if (!stdout.includes(text)) throw new Error(`never printed "${text}": ${stdout.slice(-500)} ${stderr.slice(-500)}`);
  };
  return { child, exited, waitFor };
}


describe('src/main.ts', () => {
  it('refuses bad configuration at start, naming every bad variable', async () => {
    const run = await start({ PORT: 'eighty', TELEGRAM_RATE_LIMIT: '0' }).exited;
    expect(run.code).toBe(78);
    expect(run.stderr).toContain('PORT: expected a whole number');
    expect(run.stderr).toContain('TELEGRAM_RATE_LIMIT');
  });

  it('refuses to run on a database that lacks migrations', async () => {
    const db = await createEmptyDatabase();
    cleanups.push(db.drop);
    const run = await start({ DATABASE_URL: db.url, TELEGRAM_BOT_TOKEN: '123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ' }, 'worker').exited;
    expect(run.code).toBe(78);
    expect(run.stderr).toMatch(/lacks \d+ migration\(s\).*npm run db:migrate/);
  });

  it('starts the sandbox with both roles, answers /health, and stops cleanly on SIGTERM', async () => {
    const db = await createTestDatabase();
    cleanups.push(db.drop);
    const port = await freePort();
    const kabinet = start({ DATABASE_URL: db.url, PORT: String(port), QUEUE_PREFIX: `{kt-main-${port}}`, REDIS_KEY_PREFIX: `kt-main-${port}:` });
    await kabinet.waitFor('/sandbox to chat with the bot');
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    kabinet.child.kill('SIGTERM');
    const run = await kabinet.exited;
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('"msg":"stopped"');
  });
});
