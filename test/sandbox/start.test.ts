/**
 * `npm start`'s own steps: install only when package-lock.json changed, and PostgreSQL /
 * Redis either reachable, or started with Docker Compose and waited for, or two lines saying
 * what to do (never a stack trace).
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { installReason, writeStamp } from '../../scripts/lib/install-stamp.mjs';
import { ensureServices, type ServiceTarget, type ServicesDeps } from '../../scripts/lib/services.js';

const temp = mkdtempSync(join(tmpdir(), 'kabinet-start-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('install only when package-lock.json changed', () => {
  it('installs when node_modules is missing, was not stamped, or the lock changed; not otherwise', () => {
    const root = join(temp, 'project');
    mkdirSync(root);
    writeFileSync(join(root, 'package-lock.json'), '{"lockfileVersion":3}');
    expect(installReason(root)).toMatch(/missing/);
    mkdirSync(join(root, 'node_modules'));
    expect(installReason(root)).toMatch(/not installed by/);
    writeStamp(root);
    expect(installReason(root)).toBeNull();
    writeFileSync(join(root, 'package-lock.json'), '{"lockfileVersion":3,"packages":{}}');
    expect(installReason(root)).toMatch(/package-lock.json changed/);
    writeStamp(root);
    expect(installReason(root)).toBeNull();
  });
});

const PG: ServiceTarget = { name: 'PostgreSQL', service: 'postgres', url: 'postgresql://postgres@127.0.0.1:5432/kabinet', variable: 'DATABASE_URL' };
const REDIS: ServiceTarget = { name: 'Redis', service: 'redis', url: 'redis://127.0.0.1:6379', variable: 'REDIS_URL' };

function fakeDeps(options: { up: Set<string>; docker: boolean; comesUpAfter?: number }) {
  const calls: string[][] = [];
  const lines: string[] = [];
  let probesAfterUp = 0;
  let started = false;
  const deps: ServicesDeps = {
    async probe(t) {
      if (options.up.has(t.service)) return true;
      if (!started) return false;
      probesAfterUp += 1;
      return options.comesUpAfter !== undefined && probesAfterUp > options.comesUpAfter;
    },
    dockerAvailable: () => options.docker,
    composeUp(services) { calls.push(services); started = true; return true; },
    sleep: async () => {},
    log: (line) => lines.push(line),
    waitMs: 5000,
  };
  return { deps, calls, lines };
}

describe('PostgreSQL and Redis before the start', () => {
  it('does nothing when both answer', async () => {
    const { deps, calls } = fakeDeps({ up: new Set(['postgres', 'redis']), docker: true });
    expect(await ensureServices([PG, REDIS], deps)).toEqual({ ok: true, started: [] });
    expect(calls).toEqual([]);
  });

  it('starts only the missing service with Docker Compose and waits until it answers', async () => {
    const { deps, calls, lines } = fakeDeps({ up: new Set(['redis']), docker: true, comesUpAfter: 3 });
    expect(await ensureServices([PG, REDIS], deps)).toEqual({ ok: true, started: ['postgres'] });
    expect(calls).toEqual([['postgres']]);
    expect(lines.join('\n')).toContain('docker compose up -d postgres');
  });

  it('says what to run when Docker is not there, in two lines', async () => {
    const { deps, calls } = fakeDeps({ up: new Set(), docker: false });
    const outcome = await ensureServices([PG, REDIS], deps);
    expect(calls).toEqual([]);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.message).toHaveLength(2);
    expect(outcome.message[0]).toContain('PostgreSQL at 127.0.0.1:5432 and Redis at 127.0.0.1:6379');
    expect(outcome.message[1]).toContain('docker compose up -d postgres redis');
  });

  it('gives up with a clear message when started services never answer', async () => {
    const { deps } = fakeDeps({ up: new Set(['postgres']), docker: true });
    const outcome = await ensureServices([PG, REDIS], deps);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.message[0]).toMatch(/did not answer within 5 s/);
  });

  it('does not start a remote server, and never prints its credentials', async () => {
    const remote = { ...PG, url: 'postgresql://kabinet:s3cret@db.internal:5432/kabinet' };
    const { deps, calls } = fakeDeps({ up: new Set(['redis']), docker: true });
    const outcome = await ensureServices([remote, REDIS], deps);
    expect(calls).toEqual([]);
    expect(JSON.stringify(outcome)).not.toContain('s3cret');
    expect(JSON.stringify(outcome)).toContain('db.internal:5432');
  });

  it('npm run services: unreachable servers and no Docker end in two lines and exit 69, no stack trace', async () => {
    // A `docker` that fails, first on PATH: this test must never start real containers.
    const bin = join(temp, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'docker'), '#!/bin/sh\nexit 1\n');
    chmodSync(join(bin, 'docker'), 0o755);
    const result = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/services.ts'], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/kabinet', REDIS_URL: 'redis://127.0.0.1:1', NODE_ENV: 'development' },
    }).then(() => ({ code: 0, stderr: '' }), (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }));
    expect(result.code).toBe(69);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('cannot reach PostgreSQL at 127.0.0.1:1 and Redis at 127.0.0.1:1');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
