/**
 * A broadcast world: real PostgreSQL and Redis, the fake Telegram and VK servers with their
 * rate limits on, audiences written in bulk, and the worker side (send workers with the
 * broadcast processors, the pump) started in this process or in a child process.
 */
import type { Worker } from 'bullmq';
import { VK_CLIENT_UNTHROTTLED, createBroadcastWorkers, type BroadcastWorkers } from '../../src/broadcasts/index.js';
import type { StaffPoster } from '../../src/broadcasts/reporter.js';
import { createTelegramSender } from '../../src/channels/telegram-sender.js';
import { createVkApi } from '../../src/channels/vk/vk-api.js';
import { vkChannelFromInfra } from '../../src/channels/vk/vk-customer-bot.js';
import type { OutboundSender, Platform } from '../../src/channels/outbound.js';
import { createFakeTelegram, type FakeTelegram } from '../../src/fakes/telegram/index.js';
import type { RateLimitConfig } from '../../src/fakes/telegram/rate-limiter.js';
import { createFakeVk, type FakeVk } from '../../src/fakes/vk/index.js';
import type { Env } from '../../src/config/index.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { startTestSendWorkers } from '../support/send-workers.js';

export const TG_TOKEN = '7000010:AAbroadcasts-test-token-xxxxxxxx';
export const STAFF_TOKEN = '7000011:AAbroadcasts-staff-token-xxxxxxx';
export const STAFF_CHAT = '-1001234567';
export const VK_GROUP = 7010;
export const VK_TOKEN = 'vk-broadcasts-token';
export const ADMIN_TOKEN = 'admin-broadcasts-token-0123456789';

export interface BroadcastWorld {
  ctx: TestContext;
  tg: FakeTelegram;
  vk: FakeVk;
  tgRoot: string;
  vkRoot: string;
  /** The environment a Kabinet process needs to talk to these fakes and this database. */
  env: Env;
  staffChat: number;
  /** VK users created for audiences (to count what each received). */
  vkPeers: number[];
  close(): Promise<void>;
}

export async function createBroadcastWorld(options: { env?: Env; tgLimits?: Partial<RateLimitConfig> | false; vkRate?: number | false } = {}): Promise<BroadcastWorld> {
  const tg = createFakeTelegram({ requireStart: false, recordCalls: true, ...(options.tgLimits !== undefined ? { rateLimits: options.tgLimits } : {}) });
  const tgRoot = await tg.listen();
  tg.createBot({ token: TG_TOKEN, username: 'kabinet_broadcast_bot' });
  const staff = tg.createUser({ firstName: 'Admin' });
  const staffBot = tg.createBot({ token: STAFF_TOKEN, username: 'kabinet_staff_bot' });
  const group = tg.createGroup({ title: 'Staff', members: [staff.id, staffBot.id] });
  const vk = createFakeVk({ rateLimit: options.vkRate === false ? false : { perSecond: options.vkRate ?? 20 } });
  const vkRoot = await vk.listen();
  vk.createGroup({ id: VK_GROUP, token: VK_TOKEN, confirmationCode: 'c0de', secret: 's3cret' });
  const env: Env = {
    TELEGRAM_BOT_TOKEN: TG_TOKEN,
    TELEGRAM_API_ROOT: tgRoot,
    VK_GROUP_TOKEN: VK_TOKEN,
    VK_GROUP_ID: String(VK_GROUP),
    VK_API_BASE_URL: vkRoot,
    VK_CALLBACK_SECRET: 's3cret',
    VK_CONFIRMATION_CODE: 'c0de',
    ADMIN_API_TOKEN: ADMIN_TOKEN,
    SANDBOX: 'false',
    STAFF_BOT_TOKEN: STAFF_TOKEN,
    STAFF_CHAT_ID: String(group.id),
    ...options.env,
  };
  const ctx = await createTestContext({ env });
  return {
    ctx,
    tg,
    vk,
    tgRoot,
    vkRoot,
    env,
    staffChat: group.id,
    vkPeers: [],
    async close() {
      await ctx.close();
      await tg.close();
      await vk.close();
    },
  };
}

export interface Audience {
  telegram: Array<{ customerId: string; identityId: string; chatId: number }>;
  vk: Array<{ customerId: string; identityId: string; chatId: number }>;
}

let seq = 0;

/**
 * Writes `telegram` + `vk` consenting customers, each with one linked identity, in bulk, and
 * the matching people on the fakes. Options shape the customers (language, tier, consent).
 */
export async function seedAudience(world: BroadcastWorld, counts: { telegram: number; vk: number }, shape: { language?: string; tier?: string | null; marketingConsent?: boolean; notifyPromotions?: boolean; firstName?: string | null } = {}): Promise<Audience> {
  const { prisma } = world.ctx;
  const out: Audience = { telegram: [], vk: [] };
  for (const platform of ['telegram', 'vk'] as const) {
    const n = counts[platform];
    if (n === 0) continue;
    const base = ++seq * 100_000;
    const customers = Array.from({ length: n }, (_, i) => ({
      phone: `+7955${String(base + i).padStart(7, '0')}`,
      firstName: shape.firstName === undefined ? `Name${base + i}` : shape.firstName,
      language: shape.language ?? 'ru',
      marketingConsent: shape.marketingConsent ?? true,
      notifyPromotions: shape.notifyPromotions ?? true,
      loyaltyTierCode: shape.tier ?? null,
      pointsBalance: i,
    }));
    const created = await prisma.customer.createManyAndReturn({ data: customers, select: { id: true, phone: true } });
    const people = created.map((c, i) => {
      const chatId = platform === 'telegram' ? world.tg.createUser({ firstName: `P${base + i}` }).id : world.vk.createUser({ firstName: `P${base + i}` }).id;
      if (platform === 'vk') world.vkPeers.push(chatId);
      return { customerId: c.id, chatId };
    });
    const identities = await prisma.channelIdentity.createManyAndReturn({
      data: people.map((p) => ({ platform, externalId: String(p.chatId), chatId: String(p.chatId), customerId: p.customerId, linkedAt: new Date(), lastSeenAt: new Date() })),
      select: { id: true, customerId: true },
    });
    const byCustomer = new Map(identities.map((i) => [i.customerId!, i.id]));
    out[platform] = people.map((p) => ({ ...p, identityId: byCustomer.get(p.customerId)! }));
  }
  return out;
}

/** Messages each chat got from the customer bot (Telegram: successful sends; VK: bot messages). */
export function receivedCounts(world: BroadcastWorld): { telegram: Map<number, number>; vk: Map<number, number> } {
  const telegram = new Map<number, number>();
  for (const c of world.tg.calls(TG_TOKEN)) {
    if ((c.method === 'sendMessage' || c.method === 'sendPhoto') && c.status === 200) {
      const chat = Number(c.params.chat_id);
      telegram.set(chat, (telegram.get(chat) ?? 0) + 1);
    }
  }
  const vk = new Map<number, number>();
  for (const peer of world.vkPeers) {
    const n = world.vk.conversation(VK_GROUP, peer).messages.filter((m) => m.out).length;
    if (n > 0) vk.set(peer, n);
  }
  return { telegram, vk };
}

/** Telegram 429s the fake answered to the customer bot. */
export function telegram429s(world: BroadcastWorld): number {
  return world.tg.calls(TG_TOKEN).filter((c) => c.status === 429).length;
}

export interface InProcessWorkers extends BroadcastWorkers {
  workers: Worker[];
  stop(): Promise<void>;
}

/** The worker role's send side in this process: send workers + broadcast processors + pump. */
export function startWorkersHere(world: BroadcastWorld, options: { poster?: StaffPoster; pumpIntervalMs?: number; telegramRate?: number; vkRate?: number; paid?: boolean } = {}): InProcessWorkers {
  const { ctx } = world;
  const telegram: OutboundSender = createTelegramSender({ token: TG_TOKEN, apiRoot: world.tgRoot, paidBroadcast: options.paid ?? false, timeoutSeconds: 30 });
  // Two clients of the token, as in the worker role: broadcasts' (low priority on the token's
  // pacer) and the VK channel's for notifications (high).
  const vkApi = createVkApi({ token: VK_TOKEN, apiBaseUrl: world.vkRoot, rateLimitPerSecond: VK_CLIENT_UNTHROTTLED });
  const channelVk = createVkApi({ token: VK_TOKEN, apiBaseUrl: world.vkRoot, rateLimitPerSecond: VK_CLIENT_UNTHROTTLED });
  const broadcasts = createBroadcastWorkers(ctx, { telegram, vk: vkApi, ...(options.poster ? { poster: options.poster } : {}), pumpIntervalMs: options.pumpIntervalMs ?? 200 });
  const senders = new Map<Platform, OutboundSender>([['telegram', telegram], ['vk', vkChannelFromInfra(ctx, { vk: channelVk }).outboundSender]]);
  const workers = startTestSendWorkers(ctx, {
    senders,
    ratePerSecond: { telegram: options.paid ? 1000 : options.telegramRate ?? 30, vk: options.vkRate ?? 20 },
    lockDurationMs: ctx.config.queueLockDurationMs,
    extraProcessors: broadcasts.extraProcessors,
    tokenPacers: broadcasts.tokenPacers,
  });
  broadcasts.pump.start();
  return {
    ...broadcasts,
    workers,
    async stop() {
      await broadcasts.pump.stop();
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}
