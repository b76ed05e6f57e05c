/**
 * Relay both ways with media, for a Telegram customer and a VK customer; private notes stay
 * in the topic; take, reassign by an admin, refusal of a non-staff user; close and rating.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staffCb } from '../../src/staff/render.js';
import { maskPhone } from '../../src/infra/logger.js';
import { PNG_1X1 } from '../fakes/vk/support.js';
import { eventually } from '../bot/harness.js';
import { telegramDriver, vkDriver } from '../scenarios/drivers.js';
import { TG_TOKEN, VK_GROUP } from '../scenarios/world.js';
import { createCustomer, createOrder, createProduct } from '../support/factories.js';
import { ADMIN_TOKEN, createStaffWorld, STAFF_TOKEN, type StaffWorld } from './world.js';

let w: StaffWorld;
beforeAll(async () => {
  // The fake's limits are off here; the per-group pace has its own test (burst.test.ts).
  w = await createStaffWorld({ env: { STAFF_GROUP_RATE_LIMIT: '1000' } });
}, 60_000);
afterAll(async () => {
  await w?.close();
});

const conversationOf = (externalId: string) => w.ctx.prisma.supportConversation.findFirstOrThrow({ where: { identity: { externalId } }, orderBy: { createdAt: 'desc' } });
const cardOf = (groupId: number, threadId: number) => w.topicLog(groupId, threadId).find((m) => m.direction === 'out' && (m.text ?? '').includes('Статус:'))!;
const buttonsOf = (entry: { message: { reply_markup?: { inline_keyboard: Array<Array<{ text: string; callback_data?: string }>> } } }) => entry.message.reply_markup?.inline_keyboard.flat() ?? [];

describe('a Telegram customer and the staff group', () => {
  it('opens a topic with the card, relays texts and files both ways, keeps notes in the topic', async () => {
    const customer = await createCustomer(w.ctx.prisma, { phone: '+79990001122', firstName: 'Анна', lastName: 'Смирнова' });
    const product = await createProduct(w.ctx.prisma, { sku: 'SKU-1', name: 'Кружка', price: 990 });
    await createOrder(w.ctx.prisma, customer.id, { number: 'A-1042', status: 'shipped', items: [{ product, quantity: 1, price: 990 }] });
    const anna = telegramDriver(w, { firstName: 'Анна' });
    await anna.start();
    await anna.login('+79990001122');
    await anna.say('/help');
    await anna.press('💬 Связаться с человеком');
    await anna.say('Где мой заказ <A-1042>?');
    expect(anna.texts().some((t) => t.includes('Передали ваш вопрос оператору'))).toBe(true);

    const conversation = await conversationOf(anna.externalId);
    const { groupId, threadId } = await w.waitInTopic(conversation.id, 'Где мой заказ <A-1042>?');
    const topicName = w.topics(groupId).get(threadId)!;
    expect(topicName).toContain('Telegram');
    expect(topicName).toContain('Анна');
    const card = cardOf(groupId, threadId);
    expect(card.text).toContain(maskPhone('+79990001122'));
    expect(card.text).not.toContain('+79990001122');
    expect(card.text).toContain('Мессенджеры: Telegram');
    expect(card.text).toContain('№A-1042 — Отправлен');
    expect(buttonsOf(card).map((b) => b.callback_data)).toEqual(expect.arrayContaining([staffCb.encode({ action: 'take', conversationId: conversation.id }), staffCb.encode({ action: 'close', conversationId: conversation.id })]));
    // The question is on the card, not posted a second time.
    expect(w.topicLog(groupId, threadId).filter((m) => (m.text ?? '').includes('Где мой заказ')).length).toBe(1);

    // Free text and files while the conversation is open go to the topic, not to the menu.
    w.tg.sendPhoto(TG_TOKEN, Number(anna.externalId), { caption: 'Вот чек', data: Buffer.from('receipt-jpeg') });
    w.tg.sendFile(TG_TOKEN, Number(anna.externalId), 'voice', { data: Buffer.from('ogg-voice') });
    w.tg.sendFile(TG_TOKEN, Number(anna.externalId), 'document', { data: Buffer.from('%PDF-1.4'), fileName: 'invoice.pdf', mimeType: 'application/pdf' });
    await w.tg.waitForDelivery(TG_TOKEN);
    await eventually(() => {
      const log = w.topicLog(groupId, threadId);
      return log.some((m) => m.message.photo && m.caption === 'Вот чек') && log.some((m) => m.message.voice) && log.some((m) => m.message.document?.file_name === 'invoice.pdf');
    }, 1500);
    expect(anna.lastText()).not.toContain('Не совсем понял');
    // Re-uploaded (file_ids belong to the bot that got them), bytes intact.
    const photoCall = w.tg.calls(STAFF_TOKEN).find((c) => c.method === 'sendPhoto');
    expect(photoCall?.files).toEqual(['photo']);

    // The operator answers: the customer sees "<name> answered" once, then the text.
    await w.operatorSays(w.olga, groupId, threadId, 'Здравствуйте! Заказ в пути.');
    expect(anna.lastText()).toBe('💬 Olga Operator, оператор:\nЗдравствуйте! Заказ в пути.');
    await w.operatorSays(w.olga, groupId, threadId, 'Трек пришлю чуть позже.');
    expect(anna.lastText()).toBe('Трек пришлю чуть позже.');
    // First answer took it: the card shows who.
    await eventually(() => (cardOf(groupId, threadId).text ?? '').includes('Оператор: Olga Operator'), 1500);
    await eventually(() => (w.topics(groupId).get(threadId) ?? '').includes('🟢'), 1500);

    // A private note stays in the topic.
    const before = anna.texts().length;
    await w.operatorSays(w.olga, groupId, threadId, '// клиент постоянный, дать промокод');
    await w.operatorSays(w.olga, groupId, threadId, '/note проверить склад');
    expect(anna.texts().length).toBe(before);

    // The operator's photo reaches the customer as a photo.
    w.tg.sendPhoto(STAFF_TOKEN, w.olga.id, { chatId: groupId, threadId, caption: 'Ваша посылка', data: Buffer.from('parcel-jpeg') });
    await w.settleStaff();
    await w.settleReplies();
    const last = w.tg.chat(TG_TOKEN, Number(anna.externalId)).filter((m) => m.direction === 'out').at(-1)!;
    expect(last.message.photo).toBeDefined();
    expect(last.caption).toBe('Ваша посылка');

    const messages = await w.ctx.prisma.supportMessage.findMany({ where: { conversationId: conversation.id }, orderBy: { createdAt: 'asc' } });
    expect(messages.filter((m) => m.direction === 'inbound').every((m) => m.deliveryStatus === 'sent')).toBe(true);
    expect(messages.filter((m) => m.isPrivateNote).map((m) => m.text)).toEqual(['клиент постоянный, дать промокод', 'проверить склад']);
    expect(messages.filter((m) => m.direction === 'outbound' && !m.isPrivateNote).every((m) => m.deliveryStatus === 'sent' && m.authorStaffId)).toBe(true);

    const requested = await w.ctx.prisma.outboxEvent.findFirstOrThrow({ where: { eventType: 'support.requested', payload: { path: ['conversationId'], equals: conversation.id } } });
    expect((requested.payload as { text: string }).text).toBe('Где мой заказ <A-1042>?');
    expect(await w.ctx.prisma.outboxEvent.count({ where: { eventType: 'support.message', payload: { path: ['conversationId'], equals: conversation.id } } })).toBeGreaterThanOrEqual(5);

    // The transcript in the admin API.
    const res = await w.app.inject({ method: 'GET', url: `/api/admin/conversations/${conversation.id}/messages`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.statusCode).toBe(200);
    const items = res.json().items as Array<{ direction: string; note: boolean; author: { kind: string; name: string | null }; attachments: Array<{ kind: string }> }>;
    expect(items.some((m) => m.note && m.author.name === 'Olga Operator')).toBe(true);
    expect(items.some((m) => m.direction === 'inbound' && m.attachments.some((a) => a.kind === 'voice'))).toBe(true);
  });

  it('take, refusal of a second operator, reassign by an admin, refusal of a non-staff user', async () => {
    const gleb = telegramDriver(w, { firstName: 'Глеб' });
    await gleb.start();
    await gleb.say('/help');
    await gleb.press('💬 Связаться с человеком');
    await gleb.say('Хочу вернуть товар');
    const conversation = await conversationOf(gleb.externalId);
    const { groupId, threadId } = await w.waitInTopic(conversation.id, 'Хочу вернуть товар');
    const card = cardOf(groupId, threadId);
    const take = staffCb.encode({ action: 'take', conversationId: conversation.id });
    expect(card.text, JSON.stringify(w.topicLog(groupId, threadId).map((m) => [m.messageId, m.text]))).toContain('Хочу вернуть товар');

    // Someone in the group but not on STAFF_USER_IDS is refused, politely, and nothing changes.
    w.tg.pressButton(STAFF_TOKEN, w.stranger.id, card.messageId, take, { chatId: groupId });
    const strangerPress = w.tg.calls(STAFF_TOKEN).length;
    await w.settleStaff();
    void strangerPress;
    expect((await w.ctx.prisma.supportConversation.findUniqueOrThrow({ where: { id: conversation.id } })).assigneeId).toBeNull();
    await w.operatorSays(w.stranger, groupId, threadId, 'я тоже отвечу');
    expect(gleb.texts().some((t) => t.includes('я тоже отвечу'))).toBe(false);
    await eventually(() => w.topicLog(groupId, threadId).some((m) => (m.text ?? '').includes('не в списке сотрудников')), 1500);

    await w.operatorPresses(w.boris, groupId, card.messageId, take);
    const taken = await w.ctx.prisma.supportConversation.findUniqueOrThrow({ where: { id: conversation.id }, include: { assignee: true } });
    expect(taken.assignee?.name).toBe('Boris');
    await eventually(() => (cardOf(groupId, threadId).text ?? '').includes('Оператор: Boris'), 1500);

    // Olga cannot take Boris's conversation, nor reassign it.
    // (A press on the card as Olga's client still shows it.)
    await w.operatorPresses(w.olga, groupId, card.messageId, take, true);
    const refusal = w.tg.calls(STAFF_TOKEN).filter((c) => c.method === 'answerCallbackQuery').at(-1);
    expect(String(refusal?.params.text)).toContain('другой оператор');
    await w.operatorPresses(w.olga, groupId, card.messageId, staffCb.encode({ action: 'to', conversationId: conversation.id, telegramUserId: String(w.olga.id) }), true);
    expect((await w.ctx.prisma.supportConversation.findUniqueOrThrow({ where: { id: conversation.id }, include: { assignee: true } })).assignee?.name).toBe('Boris');

    // The admin gives it to Olga.
    await w.operatorPresses(w.alla, groupId, card.messageId, staffCb.encode({ action: 'assign', conversationId: conversation.id }));
    await eventually(() => w.topicLog(groupId, threadId).some((m) => (m.text ?? '').includes('Кому передать')), 1500);
    const list = w.topicLog(groupId, threadId).filter((m) => (m.text ?? '').includes('Кому передать')).at(-1)!;
    const toOlga = buttonsOf(list).find((b) => b.text.startsWith('Olga'))!;
    await w.operatorPresses(w.alla, groupId, list.messageId, toOlga.callback_data!);
    expect((await w.ctx.prisma.supportConversation.findUniqueOrThrow({ where: { id: conversation.id }, include: { assignee: true } })).assignee?.name).toBe('Olga Operator');
    await eventually(() => w.topicLog(groupId, threadId).some((m) => (m.text ?? '').includes('передал(а) диалог: Olga Operator')), 1500);

    // Unknown and forged buttons get a polite answer.
    await w.operatorPresses(w.olga, groupId, card.messageId, 'st:take:not-a-uuid', true);
    expect(String(w.tg.calls(STAFF_TOKEN).filter((c) => c.method === 'answerCallbackQuery').at(-1)?.params.text)).toContain('устарела');
  });

  it('close by the operator asks the customer for a rating; the rating shows in the topic; the topic is closed and reopens', async () => {
    const vera = telegramDriver(w, { firstName: 'Вера' });
    await vera.start();
    await vera.say('/help');
    await vera.press('💬 Связаться с человеком');
    await vera.say('Вопрос по оплате');
    const conversation = await conversationOf(vera.externalId);
    const { groupId, threadId } = await w.waitInTopic(conversation.id, 'Вопрос по оплате');
    await w.operatorSays(w.olga, groupId, threadId, 'Оплата прошла.');
    await w.operatorPresses(w.olga, groupId, cardOf(groupId, threadId).messageId, staffCb.encode({ action: 'close', conversationId: conversation.id }));
    expect(vera.lastText()).toContain('Оператор завершил чат');
    expect(vera.buttons()).toEqual(['1 ⭐', '2 ⭐', '3 ⭐', '4 ⭐', '5 ⭐']);
    await eventually(() => (w.topics(groupId).get(threadId) ?? '').startsWith('✅'), 1500);
    await eventually(() => w.topicLog(groupId, threadId).some((m) => m.message.forum_topic_closed !== undefined), 1500);

    // After the close, free text is the bot's again (the menu fallback), not the operator's.
    await vera.press('4 ⭐');
    expect(vera.lastText()).toContain('Спасибо за оценку');
    await vera.say('Всё отлично, спасибо');
    expect(vera.lastText()).toContain('передали ваш комментарий');
    const rated = await w.ctx.prisma.supportConversation.findUniqueOrThrow({ where: { id: conversation.id } });
    expect([rated.status, rated.rating, rated.ratingComment, rated.closedBy]).toEqual(['closed', 4, 'Всё отлично, спасибо', 'operator']);
    await eventually(() => w.topicLog(groupId, threadId).some((m) => (m.text ?? '').includes('Оценка клиента: ★★★★☆')), 1500);
    expect(await w.ctx.prisma.outboxEvent.count({ where: { eventType: 'support.closed', payload: { path: ['conversationId'], equals: conversation.id } } })).toBe(1);
    expect(await w.ctx.prisma.outboxEvent.count({ where: { eventType: 'support.rated', payload: { path: ['conversationId'], equals: conversation.id } } })).toBe(2);
    await vera.say('А ещё вопрос');
    expect(vera.lastText()).not.toContain('комментарий');

    // "Talk to a person" again reopens the same conversation and its topic.
    await vera.say('/help');
    await vera.press('💬 Связаться с человеком');
    await vera.say('Снова я');
    const again = await conversationOf(vera.externalId);
    expect(again.id).toBe(conversation.id);
    // Opened again with the operator who had it.
    expect(again.status).toBe('with_operator');
    await w.waitInTopic(conversation.id, 'Снова я');
    await eventually(() => w.topicLog(groupId, threadId).some((m) => m.message.forum_topic_reopened !== undefined), 1500);

    // The customer ends it with the button.
    await vera.press('✖ Завершить чат');
    expect(vera.lastText()).toContain('Оцените');
    expect((await w.ctx.prisma.supportConversation.findUniqueOrThrow({ where: { id: conversation.id } })).closedBy).toBe('customer');
    await eventually(() => w.topicLog(groupId, threadId).some((m) => (m.text ?? '').includes('Клиент завершил чат')), 1500);
  });
});

describe('a VK customer and the staff group', () => {
  it('relays texts and a photo both ways; a document from the operator arrives as a VK document', async () => {
    const ivan = vkDriver(w, { firstName: 'Иван' });
    await ivan.start();
    await ivan.press('❓ Помощь');
    await ivan.press('💬 Связаться с человеком');
    const photo = w.vk.userFile({ type: 'photo', data: Buffer.from('vk-photo-bytes'), ownerId: Number(ivan.externalId) });
    await w.vk.sendText(VK_GROUP, Number(ivan.externalId), 'Пришёл не тот товар', { attachments: [photo] }).delivered;
    const conversation = await conversationOf(ivan.externalId);
    const { groupId, threadId } = await w.waitInTopic(conversation.id, 'Пришёл не тот товар');
    expect(w.topics(groupId).get(threadId)).toContain('VK');
    await eventually(() => w.topicLog(groupId, threadId).some((m) => m.message.photo !== undefined), 1500);
    const upload = w.tg.calls(STAFF_TOKEN).filter((c) => c.method === 'sendPhoto').at(-1)!;
    expect(upload.files).toEqual(['photo']);

    const voice = w.vk.userFile({ type: 'audio_message', data: Buffer.from('vk-voice'), ownerId: Number(ivan.externalId) });
    await w.vk.sendText(VK_GROUP, Number(ivan.externalId), '', { attachments: [voice] }).delivered;
    await eventually(() => w.topicLog(groupId, threadId).some((m) => m.message.voice !== undefined), 1500);

    await w.operatorSays(w.boris, groupId, threadId, 'Пришлите фото этикетки, пожалуйста');
    expect(ivan.lastText()).toBe('💬 Boris, оператор:\nПришлите фото этикетки, пожалуйста');

    w.tg.sendPhoto(STAFF_TOKEN, w.boris.id, { chatId: groupId, threadId, caption: 'Вот так', data: PNG_1X1 });
    await w.settleStaff();
    await w.settleReplies();
    const last = w.vk.conversation(VK_GROUP, Number(ivan.externalId)).messages.filter((m) => m.out).at(-1)!;
    expect(last.text).toBe('Вот так');
    expect(last.attachments[0]?.type).toBe('photo');

    w.tg.sendFile(STAFF_TOKEN, w.boris.id, 'document', { chatId: groupId, threadId, data: Buffer.from('pdf'), fileName: 'return-form.pdf' });
    await w.settleStaff();
    await w.settleReplies();
    const doc = w.vk.conversation(VK_GROUP, Number(ivan.externalId)).messages.filter((m) => m.out).at(-1)!;
    expect(doc.attachments[0]).toMatchObject({ type: 'doc', object: { title: 'return-form.pdf' } });
    const failed = await w.ctx.prisma.supportMessage.count({ where: { conversationId: conversation.id, deliveryStatus: { not: 'sent' } } });
    expect(failed).toBe(0);
  });

  it('a customer who blocked the bot: the message is failed and the operator told in the topic', async () => {
    const petr = vkDriver(w, { firstName: 'Пётр' });
    await petr.start();
    await petr.press('❓ Помощь');
    await petr.press('💬 Связаться с человеком');
    await petr.say('Помогите');
    const conversation = await conversationOf(petr.externalId);
    const { groupId, threadId } = await w.waitInTopic(conversation.id, 'Помогите');
    await w.vk.denyMessages(VK_GROUP, Number(petr.externalId)).delivered;
    await w.operatorSays(w.olga, groupId, threadId, 'Здравствуйте');
    const message = await w.ctx.prisma.supportMessage.findFirstOrThrow({ where: { conversationId: conversation.id, direction: 'outbound' } });
    expect(message.deliveryStatus).toBe('failed');
    await eventually(() => w.topicLog(groupId, threadId).some((m) => (m.text ?? '').includes('заблокировал бота')), 1500);
  });
});
