/**
 * Operator → VK customer with files: a document, a voice message and a video the operator
 * sends in the topic reach the VK customer as VK attachments (doc / audio_message, uploaded
 * through docs.getMessagesUploadServer → upload → docs.save), bytes intact at the fake. A file
 * VK will not take arrives as a clear line naming it; the message is still recorded (sent) and
 * the operators are told in the topic. Two quick answers arrive in the order they were written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeVkMessage } from '../../src/fakes/vk/index.js';
import { OGG_OPUS } from '../fakes/vk/support.js';
import { eventually } from '../bot/harness.js';
import { vkDriver } from '../scenarios/drivers.js';
import { VK_GROUP } from '../scenarios/world.js';
import { createStaffWorld, STAFF_TOKEN, type StaffWorld } from './world.js';

let w: StaffWorld;
beforeAll(async () => {
  w = await createStaffWorld({ env: { STAFF_GROUP_RATE_LIMIT: '1000' } });
}, 60_000);
afterAll(async () => {
  await w?.close();
});

async function vkConversation(name: string, question: string) {
  const customer = vkDriver(w, { firstName: name });
  await customer.start();
  await customer.press('❓ Помощь');
  await customer.press('💬 Связаться с человеком');
  await customer.say(question);
  const conversation = await w.ctx.prisma.supportConversation.findFirstOrThrow({ where: { identity: { externalId: customer.externalId } }, orderBy: { createdAt: 'desc' } });
  const where = await w.waitInTopic(conversation.id, question);
  const peer = Number(customer.externalId);
  const outgoing = () => w.vk.conversation(VK_GROUP, peer).messages.filter((m) => m.out);
  return { customer, conversation, peer, outgoing, ...where };
}

/** The bytes VK serves for a doc / audio_message attachment of a message. */
async function servedBytes(message: FakeVkMessage): Promise<Buffer> {
  const a = message.attachments[0] as { type: string; object: { url?: string; link_ogg?: string } };
  const url = a.type === 'audio_message' ? a.object.link_ogg! : a.object.url!;
  return Buffer.from(await (await fetch(url)).arrayBuffer());
}

describe('operator files to a VK customer', () => {
  it('a document, a voice message and a video arrive as VK attachments with their bytes; captions kept', async () => {
    const { conversation, outgoing, groupId, threadId } = await vkConversation('Ирина', 'Пришлите бланк возврата');
    const pdf = Buffer.from('%PDF-1.4\nreturn form\n%%EOF');
    const video = Buffer.concat([Buffer.from('\0\0\0\x18ftypmp42', 'latin1'), Buffer.from('video-frames')]);

    w.tg.sendFile(STAFF_TOKEN, w.olga.id, 'document', { chatId: groupId, threadId, caption: 'Бланк', data: pdf, fileName: 'return-form.pdf', mimeType: 'application/pdf' });
    await w.settleStaff();
    w.tg.sendFile(STAFF_TOKEN, w.olga.id, 'voice', { chatId: groupId, threadId, data: OGG_OPUS });
    await w.settleStaff();
    w.tg.sendFile(STAFF_TOKEN, w.olga.id, 'video', { chatId: groupId, threadId, caption: 'Как упаковать', data: video, fileName: 'packing.mp4', mimeType: 'video/mp4' });
    await w.settleStaff();
    await w.settleReplies();

    const [first, voice, clip] = outgoing().slice(-3);
    // The first answer of the round names the operator, then the caption.
    expect(first!.text).toBe('💬 Olga Operator, оператор:\nБланк');
    expect(first!.attachments[0]).toMatchObject({ type: 'doc', object: { title: 'return-form.pdf', ext: 'pdf', owner_id: -VK_GROUP } });
    expect((await servedBytes(first!)).equals(pdf)).toBe(true);

    expect(voice!.attachments[0]).toMatchObject({ type: 'audio_message' });
    expect((await servedBytes(voice!)).equals(OGG_OPUS)).toBe(true);

    // A community cannot send a video to a dialog: it goes as a document.
    expect(clip!.text).toBe('Как упаковать');
    expect(clip!.attachments[0]).toMatchObject({ type: 'doc', object: { ext: 'mp4', type: 6 } });
    expect((await servedBytes(clip!)).equals(video)).toBe(true);

    const uploads = w.vk.calls(VK_GROUP).filter((c) => c.method === 'docs.getMessagesUploadServer');
    expect(uploads.map((c) => c.params.type)).toEqual(['doc', 'audio_message', 'doc']);
    const rows = await w.ctx.prisma.supportMessage.findMany({ where: { conversationId: conversation.id, direction: 'outbound' }, orderBy: { createdAt: 'asc' } });
    expect(rows.map((r) => r.deliveryStatus)).toEqual(['sent', 'sent', 'sent']);
    expect(rows.every((r) => r.externalMessageId)).toBe(true);
  });

  it('a voice message that is not ogg/opus still arrives, as a document', async () => {
    const { outgoing, groupId, threadId } = await vkConversation('Семён', 'Голосовое не открывается');
    const mp3 = Buffer.from('ID3\x04\0\0\0\0\0\0mp3-frames', 'latin1');
    w.tg.sendFile(STAFF_TOKEN, w.olga.id, 'voice', { chatId: groupId, threadId, data: mp3 });
    await w.settleStaff();
    await w.settleReplies();
    const last = outgoing().at(-1)!;
    expect(last.attachments[0]).toMatchObject({ type: 'doc' });
    expect((await servedBytes(last)).equals(mp3)).toBe(true);
  });

  it('an upload VK refuses: the customer gets a clear line naming the file; the message is recorded as sent; the operators are told', async () => {
    const { conversation, outgoing, groupId, threadId } = await vkConversation('Зоя', 'Нужен счёт');
    w.vk.failNext('docs.save', { code: 105, message: "Couldn't save file" });
    w.tg.sendFile(STAFF_TOKEN, w.boris.id, 'document', { chatId: groupId, threadId, caption: 'Счёт', data: Buffer.from('invoice'), fileName: 'invoice-17.pdf' });
    await w.settleStaff();
    await w.settleReplies();

    const last = outgoing().at(-1)!;
    expect(last.attachments).toEqual([]);
    expect(last.text).toContain('Счёт');
    expect(last.text).toContain('invoice-17.pdf');
    expect(last.text).toContain('📎 Оператор прислал: Файл');
    const row = await w.ctx.prisma.supportMessage.findFirstOrThrow({ where: { conversationId: conversation.id, direction: 'outbound' } });
    expect(row.deliveryStatus).toBe('sent');
    expect(row.attachments).toEqual([expect.objectContaining({ kind: 'document', fileName: 'invoice-17.pdf' })]);
    await eventually(() => w.topicLog(groupId, threadId).some((m) => (m.text ?? '').includes('invoice-17.pdf') && (m.text ?? '').includes("Couldn't save file")), 1500);

    // The upload host itself failing (the file string never comes back) ends the same way.
    w.vk.failNext('docs.getMessagesUploadServer', { code: 10 });
    w.tg.sendFile(STAFF_TOKEN, w.boris.id, 'video', { chatId: groupId, threadId, data: Buffer.from('mp4') });
    await w.settleStaff();
    await w.settleReplies();
    expect(outgoing().at(-1)!.text).toContain('📎 Оператор прислал: Видео');
    expect(await w.ctx.prisma.supportMessage.count({ where: { conversationId: conversation.id, direction: 'outbound', deliveryStatus: { not: 'sent' } } })).toBe(0);
  });

  it('two quick answers arrive in the order they were written', async () => {
    const { conversation, outgoing, groupId, threadId } = await vkConversation('Лев', 'Сколько ждать?');
    const before = outgoing().length;
    // Sent back to back: the staff webhook stores and queues each; the worker delivers in order.
    w.tg.sendFile(STAFF_TOKEN, w.olga.id, 'document', { chatId: groupId, threadId, caption: 'первое', data: Buffer.from('a'.repeat(50_000)), fileName: 'big.txt' });
    w.tg.sendText(STAFF_TOKEN, w.olga.id, 'второе', { chatId: groupId, threadId });
    w.tg.sendText(STAFF_TOKEN, w.olga.id, 'третье', { chatId: groupId, threadId });
    await w.settleStaff();
    await w.settleReplies();
    const texts = outgoing().slice(before).map((m) => m.text.replace(/^💬 .*\n/, ''));
    expect(texts).toEqual(['первое', 'второе', 'третье']);
    const rows = await w.ctx.prisma.supportMessage.findMany({ where: { conversationId: conversation.id, direction: 'outbound' }, orderBy: { createdAt: 'asc' } });
    expect(rows.map((r) => r.deliveryStatus)).toEqual(['sent', 'sent', 'sent']);
  });
});
