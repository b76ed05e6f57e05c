/**
 * One VK token pacer per token covers broadcasts too: a VK broadcast runs on its own vk-io
 * client (low priority) while another client of the same token (the web role's replies, as
 * another process would have: its own vk-io, its own pacer object, high priority) keeps
 * spending the token at full rate. The fake VK counts requests per token in a strict sliding
 * second and answers error 6 to the first one over the cap; with one schedule there is none,
 * and both the broadcast and the other calls complete.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { VK_CLIENT_UNTHROTTLED, createBroadcastWorkers, type BroadcastWorkers } from '../../src/broadcasts/index.js';
import type { OutboundSender, Platform } from '../../src/channels/outbound.js';
import { createTelegramSender } from '../../src/channels/telegram-sender.js';
import { createVkApi, createVkTokenPacer } from '../../src/channels/vk/vk-api.js';
import { vkChannelFromInfra } from '../../src/channels/vk/vk-customer-bot.js';
import type { Worker } from 'bullmq';
import { TEST_REDIS_URL } from '../support/env.js';
import { TG_TOKEN, VK_GROUP, VK_TOKEN, createBroadcastWorld, receivedCounts, seedAudience, type Audience, type BroadcastWorld } from './support.js';
import { startTestSendWorkers } from '../support/send-workers.js';

const CAP = 5;
const FAKE_CAP = 7;
let world: BroadcastWorld;
let broadcasts: BroadcastWorkers;
let workers: Worker[];
let audience: Audience;
let otherRedis: Redis;

beforeAll(async () => {
  // The fake's cap sits above VK_RATE_LIMIT: a broadcast and the other client without a shared
  // pacer send about 2 × CAP a second, far over it, while the shared pacer's 0.97 × CAP keeps a
  // margin that a loaded machine's scheduling (the fake runs in this process) cannot eat up.
  world = await createBroadcastWorld({ vkRate: FAKE_CAP, env: { VK_RATE_LIMIT: String(CAP) } });
  // Each customer's own name: every message differs, so each peer is its own messages.send.
  audience = await seedAudience(world, { telegram: 0, vk: 120 });
  const { ctx } = world;
  const telegram: OutboundSender = createTelegramSender({ token: TG_TOKEN, apiRoot: world.tgRoot, paidBroadcast: false, timeoutSeconds: 30 });
  // The broadcasts' own client: nothing else applies a pacer to it.
  const broadcastVk = createVkApi({ token: VK_TOKEN, apiBaseUrl: world.vkRoot, rateLimitPerSecond: VK_CLIENT_UNTHROTTLED });
  broadcasts = createBroadcastWorkers(ctx, { telegram, vk: broadcastVk, pumpIntervalMs: 200 });
  const channelVk = createVkApi({ token: VK_TOKEN, apiBaseUrl: world.vkRoot, rateLimitPerSecond: VK_CLIENT_UNTHROTTLED });
  const senders = new Map<Platform, OutboundSender>([['telegram', telegram], ['vk', vkChannelFromInfra(ctx, { vk: channelVk }).outboundSender]]);
  workers = startTestSendWorkers(ctx, {
    senders,
    ratePerSecond: { telegram: 30, vk: CAP },
    lockDurationMs: ctx.config.queueLockDurationMs,
    extraProcessors: broadcasts.extraProcessors,
  });
  broadcasts.pump.start();
  otherRedis = new Redis(TEST_REDIS_URL);
}, 60_000);
afterAll(async () => {
  await broadcasts?.pump.stop();
  await Promise.all((workers ?? []).map((w) => w.close()));
  await otherRedis?.quit();
  await world?.close();
});

describe('the VK token pacer shared by broadcasts, replies and notifications', () => {
  it('keeps a broadcast and another client of the token together under the cap', async () => {
    const { ctx } = world;
    // "The web process": its own vk-io client and pacer object over its own Redis connection.
    const web = createVkApi({
      token: VK_TOKEN,
      apiBaseUrl: world.vkRoot,
      rateLimitPerSecond: VK_CLIENT_UNTHROTTLED,
      pacer: createVkTokenPacer({ redis: otherRedis, redisKeyPrefix: ctx.config.redisKeyPrefix, token: VK_TOKEN, rateLimitPerSecond: CAP }),
    });
    const created = await broadcasts.service.create({ title: 'Shared budget', text: { ru: 'Привет, {firstName}!' }, segment: { platforms: ['vk'] } });
    await broadcasts.service.start(created.id);
    // While the broadcast sends, the other client asks as fast as its pacer lets it.
    const other = await Promise.allSettled(Array.from({ length: 3 * CAP }, () => web.api.groups.getById({ group_id: VK_GROUP })));
    await vi.waitFor(async () => expect((await broadcasts.service.status(created.id)).status).toBe('sent'), { timeout: 60_000, interval: 250 });

    expect(other.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(await broadcasts.service.status(created.id)).toMatchObject({ total: 120, sent: 120, failed: 0 });
    const got = receivedCounts(world);
    for (const p of audience.vk) expect(got.vk.get(p.chatId), `vk ${p.chatId}`).toBe(1);
    const calls = world.vk.calls(VK_GROUP);
    expect(calls.filter((c) => c.method === 'execute').length).toBeGreaterThanOrEqual(5);
    // Not one request over the token's cap in any second, summed over both clients.
    expect(calls.filter((c) => c.error?.error_code === 6)).toEqual([]);
  });
});
