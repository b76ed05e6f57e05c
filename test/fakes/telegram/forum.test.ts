import { Input, Telegraf, TelegramError } from 'telegraf';
import { describe, expect, it } from 'vitest';
import { errorOf, startFake } from './helpers.js';


async function staffSetup() {
  const setup = await startFake();
  const staffToken = '7000002:AAstaff-bot';
  const staff = setup.fake.createBot({ token: staffToken, username: 'kabinet_staff_bot' });
  const operator = setup.fake.createUser({ firstName: 'Olga', username: 'olga_support' });
  const group = setup.fake.createGroup({ title: 'Kabinet support', isForum: true, members: [staff.id, { id: operator.id, status: 'administrator' }] });
  const bot = new Telegraf(staffToken, { telegram: { apiRoot: setup.apiRoot } });
  return { ...setup, staffToken, staff, operator, group, bot };
}

describe('forum topics through Telegraf', () => {
  it('creates a topic, routes messages by message_thread_id and rejects unknown threads', async () => {
    const { fake, staffToken, operator, group, bot } = await staffSetup();
    const topic = await bot.telegram.createForumTopic(group.id, 'Заказ #1042 — Анна');
    expect(topic).toMatchObject({ name: 'Заказ #1042 — Анна', icon_color: expect.any(Number) as number });

    const sent = await bot.telegram.sendMessage(group.id, 'Новое обращение', { message_thread_id: topic.message_thread_id });
    expect(sent).toMatchObject({ message_thread_id: topic.message_thread_id, is_topic_message: true, chat: { id: group.id, type: 'supergroup', is_forum: true } });
    expect(sent.message_id).toBeGreaterThan(topic.message_thread_id);

    const missing = await errorOf(bot.telegram.sendMessage(group.id, 'x', { message_thread_id: 99_999 }), TelegramError);
    expect([missing.code, missing.description]).toEqual([400, 'Bad Request: message thread not found']);

    const reply = fake.sendText(staffToken, operator.id, 'Здравствуйте, смотрю заказ', { chatId: group.id, threadId: topic.message_thread_id });
    expect(reply.message).toMatchObject({ chat: { id: group.id }, message_thread_id: topic.message_thread_id, is_topic_message: true, from: { id: operator.id } });
    const updates = await bot.telegram.getUpdates(0, 100, 0, undefined);
    expect(updates.map((u) => ('message' in u ? u.message.message_thread_id : undefined))).toEqual([topic.message_thread_id]);

    const inTopic = fake.chat(staffToken, group.id).filter((m) => m.threadId === topic.message_thread_id);
    expect(inTopic.map((m) => m.text ?? (m.message.forum_topic_created ? 'created' : '?'))).toEqual(['created', 'Новое обращение', 'Здравствуйте, смотрю заказ']);
  });

  it('accepts a Telegraf multipart upload into a topic', async () => {
    const { fake, staffToken, group, bot, apiRoot } = await staffSetup();
    const topic = await bot.telegram.createForumTopic(group.id, 'Чеки');
    const bytes = Buffer.from('receipt-bytes');
    const sent = await bot.telegram.sendPhoto(group.id, Input.fromBuffer(bytes, 'receipt.jpg'), {
      caption: 'Чек',
      message_thread_id: topic.message_thread_id,
      reply_markup: { inline_keyboard: [[{ text: 'Принять', callback_data: 'accept:1' }]] },
    });
    expect(sent).toMatchObject({ caption: 'Чек', message_thread_id: topic.message_thread_id, reply_markup: { inline_keyboard: [[{ callback_data: 'accept:1' }]] } });
    const call = fake.calls(staffToken).at(-1);
    expect(call?.files).toEqual(['photo']);
    expect(call?.params).toMatchObject({ chat_id: group.id, message_thread_id: topic.message_thread_id });
    const link = await bot.telegram.getFileLink(sent.photo.at(-1)?.file_id ?? '');
    expect(link.href.startsWith(apiRoot)).toBe(true);
    expect(Buffer.from(await (await fetch(link)).arrayBuffer())).toEqual(bytes);
  });

  it('edits, closes and reopens topics', async () => {
    const { group, bot } = await staffSetup();
    const topic = await bot.telegram.createForumTopic(group.id, 'Заказ #1');
    await bot.telegram.editForumTopic(group.id, topic.message_thread_id, { name: 'Заказ #1 (оплачен)' });
    expect((await errorOf(bot.telegram.editForumTopic(group.id, topic.message_thread_id, { name: 'Заказ #1 (оплачен)' }), TelegramError)).description).toBe(
      'Bad Request: TOPIC_NOT_MODIFIED',
    );
    expect(await bot.telegram.closeForumTopic(group.id, topic.message_thread_id)).toBe(true);
    expect((await errorOf(bot.telegram.closeForumTopic(group.id, topic.message_thread_id), TelegramError)).description).toBe('Bad Request: TOPIC_NOT_MODIFIED');
    expect(await bot.telegram.reopenForumTopic(group.id, topic.message_thread_id)).toBe(true);
  });

  it('refuses topics in a group that is not a forum and sends to groups the bot left with 403', async () => {
    const { fake, staff, bot } = await staffSetup();
    const plain = fake.createGroup({ title: 'Plain', members: [staff.id] });
    expect((await errorOf(bot.telegram.createForumTopic(plain.id, 'x'), TelegramError)).description).toBe('Bad Request: the chat is not a forum');
    await bot.telegram.leaveChat(plain.id);
    const left = await errorOf(bot.telegram.sendMessage(plain.id, 'x'), TelegramError);
    expect([left.code, left.description]).toEqual([403, 'Forbidden: bot is not a member of the supergroup chat']);
  });
});
