/**
 * Telegram broadcast jobs carry a chunk of rows: the processor (called directly, no pump and
 * no queue running) claims them in one statement, sends each once at the token pacer's
 * slots and records them in bulk; running the same chunk again sends nothing; a job queued
 * by the previous version (one `deliveryId`) is still sent; a chunk of a paused broadcast
 * puts its rows back.
 */
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBroadcastWorkers, type BroadcastWorkers } from '../../src/broadcasts/index.js';
import { BROADCAST_TELEGRAM_JOB, type TelegramBroadcastJob } from '../../src/broadcasts/send.processor.js';
import { createTelegramSender } from '../../src/channels/telegram-sender.js';
import { TG_TOKEN, createBroadcastWorld, receivedCounts, seedAudience, telegram429s, type BroadcastWorld } from './support.js';

let world: BroadcastWorld;
let broadcasts: BroadcastWorkers;

beforeAll(async () => {
  // A fast cap keeps a chunk well inside its send window even on a loaded machine.
  world = await createBroadcastWorld({ env: { TELEGRAM_RATE_LIMIT: '1000' }, tgLimits: { global: { burst: 1000, perSecond: 1000 } } });
  broadcasts = createBroadcastWorkers(world.ctx, { telegram: createTelegramSender({ token: TG_TOKEN, apiRoot: world.tgRoot }) });
}, 60_000);
afterAll(async () => {
  await world?.close();
});

const run = (data: TelegramBroadcastJob) => broadcasts.extraProcessors.telegram![BROADCAST_TELEGRAM_JOB]!({ data, name: BROADCAST_TELEGRAM_JOB } as unknown as Job, undefined);

async function startedBroadcast(n: number) {
  const audience = await seedAudience(world, { telegram: n, vk: 0 });
  const { id } = await broadcasts.service.create({ title: 'Chunk', text: { ru: '{firstName}, скидка' }, segment: { customerIds: audience.telegram.map((p) => p.customerId) } });
  await broadcasts.service.start(id);
  const rows = await world.ctx.prisma.broadcastDelivery.findMany({ where: { broadcastId: id }, select: { id: true }, orderBy: { id: 'asc' } });
  return { id, audience, ids: rows.map((r) => r.id) };
}

describe('a Telegram broadcast chunk', () => {
  it('sends every row of the chunk once, recorded in bulk; the same chunk again sends nothing', async () => {
    const { id, audience, ids } = await startedBroadcast(40);
    expect(await run({ broadcastId: id, deliveryIds: ids })).toBe('sent');
    const rows = await world.ctx.prisma.broadcastDelivery.findMany({ where: { broadcastId: id } });
    expect(rows.every((r) => r.status === 'sent' && r.sendingAt === null && r.sentAt !== null && r.externalMessageId && r.attempts === 1)).toBe(true);
    expect(await run({ broadcastId: id, deliveryIds: ids })).toBe('done');
    const got = receivedCounts(world);
    for (const p of audience.telegram) expect(got.telegram.get(p.chatId)).toBe(1);
    expect(world.tg.lastBotMessage(TG_TOKEN, audience.telegram[3]!.chatId)!.text).toMatch(/^Name\d+, скидка$/);
    expect(telegram429s(world)).toBe(0);
  });

  it('still sends a job of the previous version (one deliveryId)', async () => {
    const { id, audience, ids } = await startedBroadcast(1);
    expect(await run({ broadcastId: id, deliveryId: ids[0]! } as unknown as TelegramBroadcastJob)).toBe('sent');
    expect(receivedCounts(world).telegram.get(audience.telegram[0]!.chatId)).toBe(1);
  });

  it('of a paused broadcast puts its rows back, unsent and unclaimed', async () => {
    const { id, audience, ids } = await startedBroadcast(5);
    await broadcasts.service.pause(id);
    // The status cache of the processors is at most 250 ms old.
    await new Promise((r) => setTimeout(r, 300));
    expect(await run({ broadcastId: id, deliveryIds: ids })).toBe('released');
    const rows = await world.ctx.prisma.broadcastDelivery.findMany({ where: { broadcastId: id } });
    expect(rows.every((r) => r.status === 'pending' && r.sendingAt === null && r.enqueuedAt === null && r.attempts === 0)).toBe(true);
    const got = receivedCounts(world);
    for (const p of audience.telegram) expect(got.telegram.get(p.chatId)).toBeUndefined();
  });
});
