/**
 * The send worker takes the bot-wide slot, then claims the row in PostgreSQL, then sends. A
 * claim that takes longer than the slot's tolerance (the row locked a moment by another
 * writer here; a busy database or a throttled process in production) must not send late,
 * where it would land together with the next slots' messages: the worker gives the missed
 * slot up and takes a new one. Real PostgreSQL, Redis, BullMQ and the fake Bot API.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Worker } from 'bullmq';
import type { OutboundSender, Platform } from '../../src/channels/outbound.js';
import { createTelegramSender } from '../../src/channels/telegram-sender.js';
import { createTelegramTokenPacer, PACER_LATE_MS, type TokenPacer } from '../../src/channels/token-pacer.js';
import { createFakeTelegram, type FakeTelegram } from '../../src/fakes/telegram/index.js';
import { notifyCustomer } from '../../src/notifications/producer.js';
import { createNotificationDispatcher } from '../../src/notifications/send-queue.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { customerInTelegram, sentTo } from './support.js';
import { startTestSendWorkers } from '../support/send-workers.js';

const TOKEN = '7000009:AAtest_slot_after_claim_token_xx';
let ctx: TestContext;
let fake: FakeTelegram;
let workers: Worker[];
let dispatcher: ReturnType<typeof createNotificationDispatcher>;
/** Every slot the worker was granted, as the pacer's lateness check counts it (local ms). */
const slots: number[] = [];
/** acquire() calls so far, and the one (by that count) that fails as if Redis were away. */
let acquires = 0;
let failingAcquire: number | undefined;

beforeAll(async () => {
  ctx = await createTestContext();
  fake = createFakeTelegram();
  const apiRoot = await fake.listen();
  fake.createBot({ token: TOKEN, username: 'kabinet_slot_bot' });
  const pacer = createTelegramTokenPacer({ redis: ctx.redis, redisKeyPrefix: ctx.config.redisKeyPrefix, token: TOKEN, ratePerSecond: 30 });
  const recording: TokenPacer = {
    ...pacer,
    async acquire(priority) {
      if (acquires++ === failingAcquire) throw new Error('connect ECONNREFUSED (Redis away)');
      const slot = await pacer.acquire(priority);
      slots.push(slot);
      return slot;
    },
  };
  dispatcher = createNotificationDispatcher({ prisma: ctx.prisma, queues: ctx.queues, logger: ctx.logger, sendAttempts: 3, sendBackoffMs: 10 });
  workers = startTestSendWorkers(ctx, {
    senders: new Map<Platform, OutboundSender>([['telegram', createTelegramSender({ token: TOKEN, apiRoot })]]),
    tokenPacers: { telegram: recording },
    lockDurationMs: 5000,
  });
});
afterAll(async () => {
  await Promise.all((workers ?? []).map((w) => w.close()));
  await ctx?.close();
  await fake?.close();
});

const HELD_MS = 10 * PACER_LATE_MS;

/**
 * A notification dispatched while another writer holds its row: the worker gets its slot, then
 * its claim (an UPDATE of the row) waits HELD_MS, past the slot's tolerance.
 */
async function dispatchWithRowHeld(cause: string) {
  const who = await customerInTelegram(ctx.prisma, fake, TOKEN);
  const pending = await ctx.prisma.$transaction((tx) => notifyCustomer(tx, { customerId: who.customer.id, kind: 'points-credited', cause, payload: { points: 5 } }));
  expect(pending).toHaveLength(1);
  const id = pending[0]!.id;
  const before = slots.length;
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const holder = ctx.prisma.$transaction(
    async (tx) => {
      await tx.$queryRaw`SELECT id FROM notifications WHERE id = ${id}::uuid FOR UPDATE`;
      locked();
      await vi.waitFor(() => expect(slots.length).toBeGreaterThan(before), { timeout: 10_000, interval: 5 });
      await new Promise((r) => setTimeout(r, HELD_MS));
    },
    { timeout: 20_000 },
  );
  await isLocked;
  await dispatcher.dispatch(pending);
  await holder;
  return { who, id, before };
}

describe('a claim that outlasts the bot-wide slot', () => {
  it('takes a new slot before sending, and sends once', async () => {
    const { who, id } = await dispatchWithRowHeld('slot-1');

    await vi.waitFor(async () => expect(await ctx.prisma.notification.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: 'sent' }), { timeout: 15_000, interval: 20 });
    const sent = sentTo(fake, TOKEN, who.user.id);
    expect(sent).toHaveLength(1);
    // The first slot was missed while the claim waited: a new one was taken once the claim
    // was in, and the message went out at it.
    expect(slots.length).toBeGreaterThanOrEqual(2);
    expect(slots.at(-1)! - slots[0]!).toBeGreaterThanOrEqual(HELD_MS - PACER_LATE_MS);
  });

  it('gives the claim and its attempt back when the new slot cannot be had (Redis away), and the retry sends it once', async () => {
    // The first acquire from here is the slot the claim will miss; the second, its replacement, fails.
    failingAcquire = acquires + 1;
    const { who, id, before } = await dispatchWithRowHeld('slot-2');
    await vi.waitFor(async () => expect(await ctx.prisma.notification.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: 'sent' }), { timeout: 15_000, interval: 20 });
    expect(acquires).toBeGreaterThan(failingAcquire);
    expect(slots.length).toBeGreaterThan(before + 1);
    expect(sentTo(fake, TOKEN, who.user.id)).toHaveLength(1);
    // The failed attempt was given back: sent on the job's retry, not after the claim's lease.
    expect((await ctx.prisma.notification.findUniqueOrThrow({ where: { id } })).attempts).toBe(1);
  });
});
