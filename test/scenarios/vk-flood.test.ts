/**
 * A flood through the VK Callback API: 300 events from 30 users, each user's ten sent at
 * once. Whatever the lock hand-over costs, every message gets exactly one reply: none lost,
 * none doubled (VK's retries of a slow answer carry the same event_id and are handled once).
 */
import { describe, expect, it } from 'vitest';
import { useWorld } from './setup.js';
import { VK_GROUP } from './world.js';

const world = useWorld();

const USERS = 30;
const PER_USER = 10;

describe('a VK flood', () => {
  it(`${USERS * PER_USER} events from ${USERS} users: every message answered exactly once`, { timeout: 180_000 }, async () => {
    const { vk, ctx } = world();
    const ru = ctx.translator.t('ru');
    const users = Array.from({ length: USERS }, (_, i) => vk.createUser({ id: 880_000 + i, firstName: `Flood${i}` }).id);
    const sent = users.flatMap((userId) =>
      // Half ask for help, half write free text: two different replies to count per user.
      Array.from({ length: PER_USER }, (_, i) => vk.sendText(VK_GROUP, userId, i % 2 === 0 ? '/help' : `просто текст ${i}`).delivered),
    );
    await Promise.all(sent);

    const replies = (userId: number) => vk.conversation(VK_GROUP, userId).messages.filter((m) => m.out);
    await vk.waitFor(() => users.every((u) => replies(u).length >= PER_USER), { timeoutMs: 150_000 });
    // Nothing further arrives once every event was answered.
    const helpTitle = ru('help.title').replace(/<[^>]+>/g, '').split('\n')[0]!;
    for (const userId of users) {
      const texts = replies(userId).map((m) => m.text);
      expect(texts, `user ${userId}`).toHaveLength(PER_USER);
      expect(texts.filter((t) => t.startsWith(helpTitle)), `user ${userId}`).toHaveLength(PER_USER / 2);
      expect(texts.filter((t) => t.startsWith(ru('menu.free_text'))), `user ${userId}`).toHaveLength(PER_USER / 2);
    }
    expect(await ctx.prisma.channelIdentity.count({ where: { platform: 'vk', externalId: { in: users.map(String) } } })).toBe(USERS);
  });
});
