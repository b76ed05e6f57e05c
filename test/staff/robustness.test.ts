/**
 * Waiting customers and hostile input: the out-of-hours reply, the auto-reply and the staff
 * reminder; a topic deleted by hand is created again and the message delivered; bad input on
 * the staff side (forged webhook, huge or odd texts, other chats, the General topic) is
 * refused or ignored, never a crash or a half-written row.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWorkingHours } from '../../src/domain/support/hours.js';
import { sweepSupport } from '../../src/staff/support-sweeper.js';
import { STAFF_WEBHOOK_PATH } from '../../src/staff/webhook.plugin.js';
import { eventually } from '../bot/harness.js';
import { telegramDriver } from '../scenarios/drivers.js';
import { TG_TOKEN } from '../scenarios/world.js';
import { createStaffWorld, STAFF_SECRET, STAFF_TOKEN, type StaffWorld } from './world.js';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
// Working hours on a day that is not today (in Moscow): now is always out of hours.
const today = new Intl.DateTimeFormat('en-US', { timeZone: 'Europe/Moscow', weekday: 'short' }).format(new Date()).toLowerCase().slice(0, 3);
const otherDay = DAYS[(DAYS.indexOf(today) + 3) % 7]!;

let w: StaffWorld;
beforeAll(async () => {
  w = await createStaffWorld({ env: { STAFF_GROUP_RATE_LIMIT: '1000', SUPPORT_HOURS: `${otherDay} 09:00-18:00`, TIME_ZONE: 'Europe/Moscow', SUPPORT_AUTO_REPLY_AFTER_SECONDS: '120', SUPPORT_REMINDER_AFTER_SECONDS: '600' } });
}, 60_000);
afterAll(async () => {
  await w?.close();
});

const conversationOf = (externalId: string) => w.ctx.prisma.supportConversation.findFirstOrThrow({ where: { identity: { externalId } }, orderBy: { createdAt: 'desc' } });

async function ask(name: string, question: string) {
  const p = telegramDriver(w, { firstName: name });
  await p.say('/help');
  await p.press('💬 Связаться с человеком');
  await p.say(question);
  const conversation = await conversationOf(p.externalId);
  const where = await w.waitInTopic(conversation.id, question.replace(/\u0000/g, ''));
  return { p, conversation, ...where };
}

function sweeper(hours = parseWorkingHours('', 'Europe/Moscow')) {
  const services = w.staff.services;
  return sweepSupport({ logger: w.ctx.logger, services, hours, autoReplyAfterSeconds: 120, reminderAfterSeconds: 600, timeZone: 'Europe/Moscow' });
}

describe('waiting customers are not forgotten', () => {
  it('out of hours: the customer is told when someone will answer', async () => {
    const { p, conversation } = await ask('Нина', 'Вы работаете ночью?');
    expect(p.texts().some((t) => t.includes('Сейчас нерабочее время') && t.includes('09:00'))).toBe(true);
    expect((await w.ctx.prisma.supportConversation.findUniqueOrThrow({ where: { id: conversation.id } })).autoRepliedAt).not.toBeNull();
  });

  it('the auto-reply after SUPPORT_AUTO_REPLY_AFTER_SECONDS, once; a reminder in the topic, once', async () => {
    const { p, conversation, groupId, threadId } = await ask('Олег', 'Жду ответа');
    // As if it had been opened in working hours, two minutes ago.
    await w.ctx.prisma.supportConversation.update({ where: { id: conversation.id }, data: { autoRepliedAt: null, lastInboundAt: new Date(Date.now() - 121_000) } });
    const first = await sweeper();
    expect(first.autoReplies).toBeGreaterThanOrEqual(1);
    await eventually(() => p.lastText().includes('Мы не забыли о вас'));
    const repeat = await sweeper();
    expect(repeat.autoReplies).toBe(0);

    await w.ctx.prisma.supportConversation.update({ where: { id: conversation.id }, data: { lastInboundAt: new Date(Date.now() - 11 * 60_000) } });
    expect((await sweeper()).reminders).toBeGreaterThanOrEqual(1);
    await eventually(() => w.topicLog(groupId, threadId).some((m) => (m.text ?? '').includes('Клиент ждёт ответа уже 11 мин')), 1500);
    expect((await sweeper()).reminders).toBe(0);

    // An answer stops both.
    await w.operatorSays(w.olga, groupId, threadId, 'Отвечаю');
    await w.ctx.prisma.supportConversation.update({ where: { id: conversation.id }, data: { autoRepliedAt: null, remindedAt: null } });
    const after = await sweeper();
    expect([after.autoReplies, after.reminders]).toEqual([0, 0]);
  });
});

describe('a topic deleted by hand', () => {
  it('is created again with the card, and the message is delivered there', async () => {
    const { p, conversation, groupId, threadId } = await ask('Тимур', 'Первый вопрос');
    await w.staff.staffBot.bot.telegram.deleteForumTopic(groupId, threadId);
    w.tg.sendText(TG_TOKEN, Number(p.externalId), 'Второй вопрос');
    await w.tg.waitForDelivery(TG_TOKEN);
    await eventually(async () => {
      const c = await w.ctx.prisma.supportConversation.findUniqueOrThrow({ where: { id: conversation.id } });
      return c.staffThreadId !== null && Number(c.staffThreadId) !== threadId;
    }, 1500);
    const moved = await w.ctx.prisma.supportConversation.findUniqueOrThrow({ where: { id: conversation.id } });
    const log = w.topicLog(groupId, Number(moved.staffThreadId));
    expect(log.some((m) => (m.text ?? '').includes('Статус:') && (m.text ?? '').includes('Второй вопрос'))).toBe(true);
    expect(await w.ctx.prisma.supportMessage.count({ where: { conversationId: conversation.id, deliveryStatus: { not: 'sent' } } })).toBe(0);
    // Operators answer in the new topic.
    await w.operatorSays(w.olga, groupId, Number(moved.staffThreadId), 'Нашли');
    expect(p.lastText()).toContain('Нашли');
  });
});

describe('hostile input on the staff side', () => {
  it('a forged staff webhook is refused before the body is read; a malformed one is a 400', async () => {
    const forged = await w.app.inject({ method: 'POST', url: STAFF_WEBHOOK_PATH, headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'wrong' }, payload: '{not json' });
    expect(forged.statusCode).toBe(401);
    const missing = await w.app.inject({ method: 'POST', url: STAFF_WEBHOOK_PATH, headers: { 'content-type': 'application/json' }, payload: { update_id: 1 } });
    expect(missing.statusCode).toBe(401);
    const malformed = await w.app.inject({ method: 'POST', url: STAFF_WEBHOOK_PATH, headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': STAFF_SECRET }, payload: { hello: 1 } });
    expect(malformed.statusCode).toBe(400);
  });

  it('a huge operator text is refused with a line in the topic; odd Unicode and NUL are stored cleanly', async () => {
    const { p, conversation, groupId, threadId } = await ask('Зоя', 'Вопрос с \u0000нулём и 🧪\u200b');
    const stored = await w.ctx.prisma.supportMessage.findFirstOrThrow({ where: { conversationId: conversation.id, direction: 'inbound' } });
    expect(stored.text).toBe('Вопрос с нулём и 🧪\u200b');
    const before = await w.ctx.prisma.supportMessage.count({ where: { conversationId: conversation.id } });
    await w.operatorSays(w.olga, groupId, threadId, 'Я'.repeat(4096));
    expect(await w.ctx.prisma.supportMessage.count({ where: { conversationId: conversation.id } })).toBe(before);
    await eventually(() => w.topicLog(groupId, threadId).some((m) => (m.text ?? '').includes('слишком длинное')), 1500);
    expect(p.texts().some((t) => t.startsWith('ЯЯЯ'))).toBe(false);
    // NUL from an operator: cleaned, delivered.
    await w.operatorSays(w.olga, groupId, threadId, 'Ответ\u0000 без нуля');
    expect(p.lastText()).toContain('Ответ без нуля');
  });

  it('a customer pressing forged or stale support buttons gets a polite answer and changes nothing', async () => {
    const { p, conversation } = await ask('Федя', 'Кнопки');
    const chatId = Number(p.externalId);
    const last = w.tg.lastBotMessage(TG_TOKEN, chatId)!;
    for (const data of [`sup:rate:${conversation.id}:5`, `sup:rate:${conversation.id}:9`, 'sup:rate:00000000-0000-7000-8000-000000000000:3', 'sup:end:not-a-uuid', 'sup:zzz']) {
      const update = w.tg.pressButton(TG_TOKEN, chatId, last.message_id, data, { force: true });
      await w.tg.waitForDelivery(TG_TOKEN);
      expect(String(w.tg.callbackAnswer(TG_TOKEN, update.callback_query!.id)?.text), data).toContain('устарела');
    }
    const after = await w.ctx.prisma.supportConversation.findUniqueOrThrow({ where: { id: conversation.id } });
    expect([after.status, after.rating]).toEqual(['waiting', null]);
  });

  it('ignores other chats and the General topic; a customer write to the staff bot in private is refused', async () => {
    const me = await w.staff.staffBot.bot.telegram.getMe();
    const other = w.tg.createGroup({ title: 'Not staff', isForum: true, members: [me.id, w.olga.id] });
    // Nothing is said in the other group, nor in the staff group's General topic.
    const calls = () => w.tg.calls(STAFF_TOKEN).filter((c) => Number(c.params.chat_id) === other.id || (Number(c.params.chat_id) === w.groups[0] && c.method.startsWith('send') && c.params.message_thread_id === undefined)).length;
    w.tg.sendText(STAFF_TOKEN, w.olga.id, 'привет', { chatId: other.id });
    await w.settleStaff();
    w.tg.sendText(STAFF_TOKEN, w.olga.id, 'всем привет', { chatId: w.groups[0]! });
    await w.settleStaff();
    expect(calls()).toBe(0);
    expect(w.tg.deliveryStats(STAFF_TOKEN).lastError).toBeUndefined();

    w.tg.sendText(STAFF_TOKEN, w.stranger.id, '/start');
    await w.settleStaff();
    expect(w.tg.lastBotMessage(STAFF_TOKEN, w.stranger.id)?.text).toContain('не в списке сотрудников');
    expect(await w.ctx.prisma.staffMember.count({ where: { telegramUserId: String(w.stranger.id) } })).toBe(0);
  });
});
