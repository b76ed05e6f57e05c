/**
 * The kill -9 drill: the real worker role (`src/main.ts worker`) in a child process sends a
 * broadcast on Telegram and VK; it is killed with SIGKILL in the middle; a second worker
 * process takes over. Every recipient ends up sent, and at the fakes each got the message
 * once. The one allowed exception is Telegram's documented window: a row whose request was
 * on the wire at the moment of the kill may be repeated (VK drops the repeat by random_id).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createBroadcastsFromInfra } from '../../src/broadcasts/index.js';
import type { BroadcastsService } from '../../src/domain/broadcasts/broadcasts.service.js';
import { TG_TOKEN, VK_GROUP, createBroadcastWorld, receivedCounts, seedAudience, type BroadcastWorld } from './support.js';

let world: BroadcastWorld;
let service: BroadcastsService;
const children: ChildProcess[] = [];

function workerProcess(): ChildProcess {
  const { ctx } = world;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'worker'], {
    env: {
      ...process.env,
      ...world.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: ctx.config.databaseUrl,
      REDIS_URL: ctx.config.redisUrl,
      QUEUE_PREFIX: ctx.config.queuePrefix,
      REDIS_KEY_PREFIX: ctx.config.redisKeyPrefix,
      QUEUE_LOCK_DURATION_MS: '1000',
      TELEGRAM_RATE_LIMIT: '30',
      VK_RATE_LIMIT: '2',
    } as NodeJS.ProcessEnv,
    stdio: 'ignore',
  });
  children.push(child);
  return child;
}

beforeAll(async () => {
  world = await createBroadcastWorld();
  service = createBroadcastsFromInfra(world.ctx);
}, 60_000);
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await world?.close();
});

describe('a worker process killed with SIGKILL mid-broadcast', () => {
  it('changes nothing in the counts: no recipient skipped, none messaged twice', async () => {
    const audience = await seedAudience(world, { telegram: 300, vk: 300 });
    // {firstName} makes every VK message different: 300 sends in 12 executes at 2 requests/s.
    const { id } = await service.create({ title: 'Drill', text: { ru: '{firstName}, для вас скидка' }, segment: {} });
    await service.start(id);

    const first = workerProcess();
    await vi.waitFor(async () => {
      const sent = await world.ctx.prisma.broadcastDelivery.count({ where: { broadcastId: id, status: 'sent' } });
      expect(sent).toBeGreaterThanOrEqual(150);
    }, { timeout: 60_000, interval: 50 });
    const exited = new Promise((r) => first.once('exit', r));
    first.kill('SIGKILL');
    await exited;
    // What was on the wire when it died: claimed, outcome not recorded.
    const inFlight = await world.ctx.prisma.broadcastDelivery.findMany({ where: { broadcastId: id, status: 'pending', sendingAt: { not: null } }, select: { identityId: true, platform: true } });
    const midway = await service.status(id);
    expect(midway.pending).toBeGreaterThan(100);
    // Killed in the middle of both platforms, not after one of them finished.
    for (const platform of ['telegram', 'vk'] as const) {
      expect(await world.ctx.prisma.broadcastDelivery.count({ where: { broadcastId: id, platform, status: 'pending' } }), platform).toBeGreaterThan(0);
      expect(await world.ctx.prisma.broadcastDelivery.count({ where: { broadcastId: id, platform, status: 'sent' } }), platform).toBeGreaterThan(0);
    }

    workerProcess();
    await vi.waitFor(async () => expect((await service.status(id)).status).toBe('sent'), { timeout: 90_000, interval: 250 });
    expect(await service.status(id)).toMatchObject({ total: 600, sent: 600, pending: 0, failed: 0, blocked: 0, skipped: 0 });

    const got = receivedCounts(world);
    for (const p of audience.vk) expect(got.vk.get(p.chatId), `vk ${p.chatId}`).toBe(1);
    const inFlightTg = new Set(inFlight.filter((r) => r.platform === 'telegram').map((r) => r.identityId));
    const twice = audience.telegram.filter((p) => got.telegram.get(p.chatId) !== 1);
    for (const p of twice) {
      expect(got.telegram.get(p.chatId)).toBe(2);
      expect(inFlightTg.has(p.identityId), 'a Telegram repeat only for a send on the wire at the kill').toBe(true);
    }
    for (const p of audience.telegram) expect(got.telegram.get(p.chatId) ?? 0).toBeGreaterThanOrEqual(1);
    expect(world.tg.calls(TG_TOKEN).filter((c) => c.status === 429)).toHaveLength(0);
    expect(world.vk.calls(VK_GROUP).filter((c) => c.error?.error_code === 6)).toHaveLength(0);
  }, 180_000);
});
