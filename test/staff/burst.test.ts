/**
 * Telegram's per-group limit, with the fake enforcing it (20 messages per window per group,
 * 429 with retry_after beyond): 60 customers writing at once are all relayed, none lost, and
 * the fake never has to refuse; a 429 that comes anyway is waited out; several staff groups
 * share the load. The window is scaled down (20 per 3 s) so the test runs in seconds; the
 * pacing logic is the same as with 20 a minute.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentitiesService } from '../../src/domain/customers/identities.js';
import { eventually } from '../bot/harness.js';
import { TG_TOKEN } from '../scenarios/world.js';
import { createStaffWorld, STAFF_TOKEN, type StaffWorld } from './world.js';

const WINDOW_MS = 3000;
const LIMITS = { global: { burst: 1000, perSecond: 1000 }, privateChat: { burst: 100, perSecond: 100 }, group: { burst: 20, perSecond: 20 / (WINDOW_MS / 1000) } };

let w: StaffWorld;
beforeAll(async () => {
  w = await createStaffWorld({ groups: 2, rateLimits: LIMITS, env: { STAFF_GROUP_RATE_LIMIT: '20', STAFF_GROUP_RATE_WINDOW_MS: String(WINDOW_MS) } });
}, 60_000);
afterAll(async () => {
  await w?.close();
});

/** Customers with a conversation already open (as after "Talk to a person"), ready to write. */
async function openConversations(n: number, prefix: string) {
  const identities = createIdentitiesService({ prisma: w.ctx.prisma, clock: w.ctx.clock, resolveLanguage: () => 'ru' });
  const people = [];
  for (let i = 0; i < n; i++) {
    const user = w.tg.createUser({ firstName: `${prefix}${i}`, languageCode: 'ru' });
    const identity = await identities.touch({ platform: 'telegram', externalId: String(user.id), chatId: String(user.id), firstName: user.first_name, languageCode: 'ru' });
    const opened = await w.staff.services.support.customerWrites(identity.identityId, { text: `${prefix}${i}: здравствуйте` }, { open: true });
    people.push({ user, conversationId: opened!.conversationId });
  }
  return people;
}

describe('a burst against the per-group limit', () => {
  it('60 customers writing at once (some several times) are all relayed; the group is never over its limit', async () => {
    const people = await openConversations(60, 'Клиент');
    // Everyone writes now; every third person writes three quick messages.
    for (const [i, p] of people.entries()) {
      w.tg.sendText(TG_TOKEN, p.user.id, `вопрос ${i}`);
      if (i % 3 === 0) {
        w.tg.sendText(TG_TOKEN, p.user.id, `уточнение ${i}`);
        w.tg.sendText(TG_TOKEN, p.user.id, `и ещё ${i}`);
      }
    }
    await w.tg.waitForDelivery(TG_TOKEN, { timeoutMs: 60_000 });
    const ids = people.map((p) => p.conversationId);
    // Relays wake up (the opening messages were stored straight through the service).
    for (const id of ids) await w.staff.services.poster.relay(id);
    await eventually(async () => (await w.ctx.prisma.supportMessage.count({ where: { conversationId: { in: ids }, deliveryStatus: 'pending' } })) === 0, 6000);

    expect(await w.ctx.prisma.supportMessage.count({ where: { conversationId: { in: ids }, direction: 'inbound', deliveryStatus: 'sent' } })).toBe(60 + 60 + 40);
    const sends = w.tg.calls(STAFF_TOKEN).filter((c) => ['sendMessage', 'sendPhoto'].includes(c.method) && String(c.params.chat_id).startsWith('-'));
    // The fake enforces 20 per window per group: it never had to say 429.
    expect(sends.filter((c) => c.status === 429)).toEqual([]);
    // Quick messages of one customer that waited together went in as one post: fewer posts than messages.
    expect(sends.filter((c) => /уточнение (\d+)\n\nи ещё \1/.test(String(c.params.text ?? ''))).length).toBeGreaterThan(0);
    expect(sends.filter((c) => c.status === 200).length).toBeLessThan(160);
    // Nothing lost: every question is in its own conversation's topic.
    for (const [i, p] of people.entries()) {
      const c = await w.ctx.prisma.supportConversation.findUniqueOrThrow({ where: { id: p.conversationId } });
      const texts = w.topicLog(Number(c.staffChatId), Number(c.staffThreadId)).map((m) => m.text ?? '').join('\n');
      expect(texts, `customer ${i}`).toContain(`вопрос ${i}`);
      expect(texts, `customer ${i}`).toContain(`Клиент${i}: здравствуйте`);
    }
    // New conversations were spread over both staff groups.
    const perGroup = await w.ctx.prisma.supportConversation.groupBy({ by: ['staffChatId'], where: { id: { in: ids } }, _count: { _all: true } });
    expect(perGroup).toHaveLength(2);
    expect(Math.min(...perGroup.map((g) => g._count._all))).toBeGreaterThanOrEqual(20);
  }, 120_000);

  it('a 429 from Telegram is waited out (retry_after) and the message still arrives', async () => {
    const [p] = await openConversations(1, 'Терпеливый');
    const c = await w.ctx.prisma.supportConversation.findUniqueOrThrow({ where: { id: p!.conversationId } });
    await w.staff.services.poster.relay(c.id);
    await eventually(async () => (await w.ctx.prisma.supportMessage.count({ where: { conversationId: c.id, deliveryStatus: 'pending' } })) === 0, 3000);
    const chatId = Number((await w.ctx.prisma.supportConversation.findUniqueOrThrow({ where: { id: c.id } })).staffChatId);
    w.tg.failNext(STAFF_TOKEN, 'sendMessage', { errorCode: 429, description: 'Too Many Requests: retry after 1', retryAfter: 1, chatId });
    w.tg.sendText(TG_TOKEN, p!.user.id, 'после паузы');
    await w.tg.waitForDelivery(TG_TOKEN);
    await eventually(async () => (await w.ctx.prisma.supportMessage.count({ where: { conversationId: c.id, deliveryStatus: 'pending' } })) === 0, 3000);
    const calls = w.tg.calls(STAFF_TOKEN).filter((x) => x.method === 'sendMessage' && Number(x.params.chat_id) === chatId);
    const refused = calls.findIndex((x) => x.status === 429);
    expect(refused).toBeGreaterThanOrEqual(0);
    expect(calls.slice(refused + 1).some((x) => x.status === 200 && String(x.params.text).includes('после паузы'))).toBe(true);
  }, 60_000);
});
