/** The staff bot without STAFF_WEBHOOK_URL: no route, updates from getUpdates, stop() ends it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeTelegram, type FakeTelegram } from '../../src/fakes/telegram/index.js';
import { createStaffChannel, type StaffChannel } from '../../src/staff/staff-side.js';
import { createTestContext, type TestContext } from '../support/context.js';

const STAFF = '7000019:AAkabinet-staff-polling-token';
let fake: FakeTelegram;
let ctx: TestContext;
let channel: StaffChannel;

beforeAll(async () => {
  fake = createFakeTelegram({ rateLimits: false });
  const apiRoot = await fake.listen();
  const bot = fake.createBot({ token: STAFF, username: 'staff_polling_bot' });
  const olga = fake.createUser({ id: 5101, firstName: 'Olga' });
  fake.createUser({ id: 5102, firstName: 'Mallory' });
  const group = fake.createGroup({ title: 'Support', isForum: true, members: [bot.id, olga.id] });
  ctx = await createTestContext({ env: { STAFF_BOT_TOKEN: STAFF, TELEGRAM_API_ROOT: apiRoot, STAFF_CHAT_ID: String(group.id) } });
  channel = createStaffChannel(ctx);
});
afterAll(async () => {
  await channel?.stop();
  await fake?.close();
  await ctx?.close();
});

describe('staff bot long polling', () => {
  it('polls when no webhook URL is set; members of the staff group are staff, others are refused', async () => {
    expect(channel.plugin).toBeUndefined();
    await channel.start();
    await fake.waitFor(() => fake.isLongPolling(STAFF));
    // Not a member of the staff group (STAFF_USER_IDS unset): refused in private.
    fake.sendText(STAFF, 5102, '/start');
    await fake.waitFor(() => fake.lastBotMessage(STAFF, 5102) !== undefined, { timeoutMs: 10_000 });
    expect(fake.lastBotMessage(STAFF, 5102)?.text).toContain('не в списке сотрудников');
    // A member of the staff group is staff, in private too.
    fake.sendText(STAFF, 5101, '/start');
    await fake.waitFor(() => fake.lastBotMessage(STAFF, 5101) !== undefined, { timeoutMs: 10_000 });
    expect(fake.lastBotMessage(STAFF, 5101)?.text).toContain('бот операторов');
    expect(await ctx.prisma.staffMember.findUnique({ where: { telegramUserId: '5101' } })).toMatchObject({ name: 'Olga', role: 'operator' });
    await channel.stop();
    await fake.waitFor(() => !fake.isLongPolling(STAFF), { timeoutMs: 10_000 });
  });
});
