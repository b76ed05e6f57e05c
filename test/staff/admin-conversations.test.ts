/** GET /api/admin/conversations and /conversations/:id/messages: bearer, filters, pages, OpenAPI. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminConversationsPlugin } from '../../src/api/admin/conversations.js';
import { createIdentitiesService } from '../../src/domain/customers/identities.js';
import { createSupportService } from '../../src/domain/support/support.service.js';
import { createTranscriptQueries } from '../../src/domain/support/transcripts.js';
import { buildApp, type App } from '../../src/server/app.js';
import { createTestContext, type TestContext } from '../support/context.js';

const TOKEN = 'admin-token-0123456789abcdef';
let ctx: TestContext;
let app: App;
const auth = { authorization: `Bearer ${TOKEN}` };

beforeAll(async () => {
  ctx = await createTestContext();
  app = await buildApp({ logger: ctx.logger, health: [], plugins: [{ plugin: adminConversationsPlugin, options: { prefix: '/api/admin', token: TOKEN, transcripts: createTranscriptQueries({ prisma: ctx.prisma }) } }] });
});
afterAll(async () => {
  await app?.close();
  await ctx?.close();
});

describe('admin conversations API', () => {
  it('lists by status with pages and shows a transcript with direction, author, notes and delivery', async () => {
    const identities = createIdentitiesService({ prisma: ctx.prisma, clock: ctx.clock, resolveLanguage: () => 'ru' });
    const support = createSupportService({ prisma: ctx.prisma, clock: ctx.clock });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const identity = await identities.touch({ platform: i % 2 ? 'vk' : 'telegram', externalId: `90${i}`, chatId: `90${i}`, firstName: `P${i}` });
      ids.push((await support.customerWrites(identity.identityId, { text: `q${i}` }, { open: true }))!.conversationId);
    }
    const staff = await ctx.prisma.staffMember.create({ data: { telegramUserId: '42', name: 'Olga' } });
    const ref = { id: staff.id, name: staff.name, role: 'operator' as const };
    const answer = await support.operatorWrites(ids[0]!, ref, { text: 'a0', note: false, staffMessageId: '10' });
    await support.markDelivered(answer.messageId, '77');
    await support.operatorWrites(ids[0]!, ref, { text: 'note', note: true, staffMessageId: '11' });
    await support.close(ids[1]!, { staff: ref });

    const closed = await app.inject({ method: 'GET', url: '/api/admin/conversations?status=closed', headers: auth });
    expect(closed.statusCode).toBe(200);
    expect(closed.json().items.map((c: { id: string }) => c.id)).toEqual([ids[1]]);
    const page1 = await app.inject({ method: 'GET', url: '/api/admin/conversations?limit=2', headers: auth });
    expect(page1.json().items, page1.body).toHaveLength(2);
    const page2 = await app.inject({ method: 'GET', url: `/api/admin/conversations?limit=2&cursor=${page1.json().nextCursor}`, headers: auth });
    expect([...page1.json().items, ...page2.json().items].map((c: { id: string }) => c.id).sort()).toEqual([...ids].sort());
    const withOperator = (await app.inject({ method: 'GET', url: '/api/admin/conversations?status=with_operator', headers: auth })).json().items;
    expect(withOperator).toMatchObject([{ id: ids[0], assignee: { name: 'Olga' }, messages: 3 }]);

    const transcript = await app.inject({ method: 'GET', url: `/api/admin/conversations/${ids[0]}/messages`, headers: auth });
    expect(transcript.json().items).toMatchObject([
      { direction: 'inbound', author: { kind: 'customer' }, note: false, text: 'q0', deliveryStatus: 'pending' },
      { direction: 'outbound', author: { kind: 'operator', name: 'Olga' }, note: false, text: 'a0', deliveryStatus: 'sent' },
      { direction: 'outbound', note: true, text: 'note', deliveryStatus: 'sent' },
    ]);
  });

  it('refuses without the token, bad status, bad ids; 404 for an unknown conversation', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/admin/conversations' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/api/admin/conversations', headers: { authorization: 'Bearer nope' } })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/api/admin/conversations?status=lost', headers: auth })).statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: '/api/admin/conversations/not-a-uuid/messages', headers: auth })).statusCode).toBe(400);
    const missing = await app.inject({ method: 'GET', url: '/api/admin/conversations/00000000-0000-7000-8000-000000000000/messages', headers: auth });
    expect([missing.statusCode, missing.json().error]).toEqual([404, 'not_found']);
  });

  it('is in the OpenAPI document', async () => {
    const spec = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/api/admin/conversations', '/api/admin/conversations/{id}/messages']));
  });
});
