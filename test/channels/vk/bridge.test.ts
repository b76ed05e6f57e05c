/**
 * The method table through a real grammY Bot (transformer installed) and vk-io against the
 * fake VK over HTTP: what the brain calls, what the VK user sees.
 */
import { Api, GrammyError, InlineKeyboard, InputFile, Keyboard } from 'grammy';
import { createRetryingFetch } from '../../../src/channels/api-retry.js';
import { createBridgeFetch } from '../../../src/channels/vk/bridge-fetch.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { toSendFailure, toTelegramError, UnsupportedBotApiMethodError, VkCallError, VkUploadError } from '../../../src/channels/vk/errors.js';
import { createVkBridge } from '../../../src/channels/vk/method-table.js';
import { createVkOutboundSender } from '../../../src/channels/vk/outbound-sender.js';
import { createUpdateConverter, STALE_CALLBACK_DATA } from '../../../src/channels/vk/update-converter.js';
import { SendFailure } from '../../../src/channels/outbound.js';
import { createFakeVk, type FakeVk } from '../../../src/fakes/vk/index.js';
import { OGG_OPUS, PNG_1X1 } from '../../fakes/vk/support.js';
import { bridgeHarness, CONFIRMATION, GROUP, SECRET, TOKEN, type BridgeHarness } from './support.js';

const USER = 9001;
let fake: FakeVk;
let h: BridgeHarness;

beforeAll(async () => {
  fake = createFakeVk();
  await fake.listen();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset({ full: true });
  fake.createGroup({ id: GROUP, token: TOKEN, confirmationCode: CONFIRMATION, secret: SECRET, name: 'Demo Shop' });
  fake.createUser({ id: USER, firstName: 'Olga', lastName: 'Smirnova' });
  h = bridgeHarness(fake);
});
afterEach(async () => {
  await h.close();
});

const labels = (rows: { label?: string }[][]) => rows.flat().map((b) => b.label);

describe('sendMessage and formatting', () => {
  it('sends plain text with random_id and returns a Telegram message whose id is the conversation_message_id', async () => {
    const sent = await h.bot.api.sendMessage(USER, '<b>Заказ №12</b> &amp; <i>итог</i>: 1&nbsp;200 ₽\nСм. <a href="https://shop.example/o/12?a=1&amp;b=2">трекинг</a>', { parse_mode: 'HTML' });
    const message = fake.lastBotMessage(GROUP, USER)!;
    expect(message.text).toBe('Заказ №12 & итог: 1\u00a0200 ₽\nСм. трекинг (https://shop.example/o/12?a=1&b=2)');
    expect(sent.message_id).toBe(message.conversationMessageId);
    expect(sent.chat.id).toBe(USER);
    const call = fake.calls(GROUP).find((c) => c.method === 'messages.send')!;
    expect(Number(call.params.random_id)).toBeGreaterThan(0);
  });

  it('turns an inline keyboard into VK callback and open_link buttons, and a reply keyboard into the persistent one', async () => {
    await h.bot.api.sendMessage(USER, 'Меню', {
      reply_markup: new InlineKeyboard().text('Мои заказы', 'o:list:0').url('Сайт', 'https://shop.example').row().text('Профиль', 'p:show'),
    });
    const kb = fake.lastBotMessage(GROUP, USER)!.keyboard!;
    expect(kb.inline).toBe(true);
    expect(kb.buttons.map((r) => r.map((b) => b.type))).toEqual([['callback', 'open_link'], ['callback']]);
    expect(JSON.parse(kb.buttons[0]![0]!.payload!)).toEqual({ d: 'o:list:0' });
    expect(kb.buttons[0]![1]!.link).toBe('https://shop.example');

    const long = 'Очень длинная подпись кнопки, которая не влезает в сорок символов VK';
    await h.bot.api.sendMessage(USER, 'Выберите', { reply_markup: new Keyboard().text('Да').text(long).oneTime() });
    const persistent = fake.conversation(GROUP, USER).keyboard!;
    expect(persistent.inline).toBe(false);
    expect(persistent.buttons[0]![1]!.label!.length).toBeLessThanOrEqual(40);
    // The user presses the clipped button: the brain hears the full text it offered.
    const converter = createUpdateConverter({ store: h.store, userInfo: async () => ({ firstName: 'Olga' }) });
    const press = fake.pressButton(GROUP, USER, persistent.buttons[0]![1]!.label!);
    const converted = await converter.convert(press.event);
    expect(converted.kind === 'update' && converted.update.message?.text).toBe(long);
  });

  it('keeps callback data that does not fit a 255-character payload behind a short token', async () => {
    const data = `x:${'й'.repeat(300)}`;
    await h.bot.api.sendMessage(USER, 'Длинные данные', { reply_markup: new InlineKeyboard().text('Нажми', data) });
    const button = fake.lastBotMessage(GROUP, USER)!.keyboard!.buttons[0]![0]!;
    expect(button.payload!.length).toBeLessThanOrEqual(255);
    const converter = createUpdateConverter({ store: h.store, userInfo: async () => ({}) });
    const press = fake.pressButton(GROUP, USER, 'Нажми');
    const converted = await converter.convert(press.event);
    expect(converted.kind === 'update' && converted.update.callback_query?.data).toBe(data);
    // An unknown token (expired) reads as stale data, which no feature matches.
    const forged = await converter.convert({ ...press.event, object: { ...press.event.object, payload: { t: 'AAAAAAAAAAAA' } } });
    expect(converted.kind === 'update' && forged.kind === 'update' && forged.update.callback_query?.data).toBe(STALE_CALLBACK_DATA);
  });
});

describe('keyboards beyond VK limits', () => {
  it('paginates 23 inline buttons across pages of at most 10 and loses none', async () => {
    const kb = new InlineKeyboard();
    const all = Array.from({ length: 23 }, (_, i) => `Товар ${i + 1}`);
    all.forEach((label, i) => kb.text(label, `w:item:${i}`).row());
    const sent = await h.bot.api.sendMessage(USER, 'Избранное', { reply_markup: kb });
    const seen = new Set<string>();
    let message = fake.lastBotMessage(GROUP, USER)!;
    for (let guard = 0; guard < 10; guard++) {
      const keyboard = message.keyboard!;
      expect(keyboard.buttons.flat().length).toBeLessThanOrEqual(10);
      expect(keyboard.buttons.length).toBeLessThanOrEqual(6);
      for (const l of labels(keyboard.buttons)) if (l && l.startsWith('Товар')) seen.add(l);
      const next = keyboard.buttons.flat().find((b) => b.label?.startsWith('▶'));
      if (!next) break;
      const payload = JSON.parse(next.payload!) as { vkp: string; n: number };
      expect(await h.bridge.turnPage({ token: payload.vkp, page: payload.n, peerId: USER, conversationMessageId: sent.message_id })).toBe(true);
      message = fake.conversation(GROUP, USER).messages.find((m) => m.conversationMessageId === sent.message_id)!;
      expect(message.text).toBe('Избранное');
    }
    expect([...seen].sort()).toEqual([...all].sort());
  });
});

describe('edits, callbacks, photos, deletes', () => {
  it('edits in place, answers a callback with a snackbar, replaces only the markup, deletes', async () => {
    const sent = await h.bot.api.sendMessage(USER, 'Было', { reply_markup: new InlineKeyboard().text('Дальше', 'm:home') });
    await h.bot.api.editMessageText(USER, sent.message_id, 'Стало', { reply_markup: new InlineKeyboard().text('Назад', 'm:home') });
    let message = fake.conversation(GROUP, USER).messages.find((m) => m.conversationMessageId === sent.message_id)!;
    expect(message.text).toBe('Стало');
    expect(labels(message.keyboard!.buttons)).toEqual(['Назад']);

    const press = fake.pressButton(GROUP, USER, 'Назад');
    const converter = createUpdateConverter({ store: h.store, userInfo: async () => ({}) });
    const converted = await converter.convert(press.event);
    if (converted.kind !== 'update') throw new Error('expected an update');
    const query = converted.update.callback_query!;
    expect(query.message?.message_id).toBe(sent.message_id);
    await h.bot.api.answerCallbackQuery(query.id, { text: 'Готово' });
    expect(fake.conversation(GROUP, USER).eventAnswers.map((a) => a.eventData)).toEqual([{ type: 'show_snackbar', text: 'Готово' }]);

    await h.bot.api.editMessageReplyMarkup(USER, sent.message_id, { reply_markup: new InlineKeyboard().text('Ещё', 'm:login') });
    message = fake.conversation(GROUP, USER).messages.find((m) => m.conversationMessageId === sent.message_id)!;
    expect(message.text).toBe('Стало');
    expect(labels(message.keyboard!.buttons)).toEqual(['Ещё']);

    expect(await h.bot.api.deleteMessage(USER, sent.message_id)).toBe(true);
    expect(fake.conversation(GROUP, USER).messages.some((m) => m.conversationMessageId === sent.message_id)).toBe(false);
  });

  it('uploads a photo and sends it with its caption', async () => {
    const sent = await h.bot.api.sendPhoto(USER, new InputFile(PNG_1X1, 'p.png'), { caption: '<b>Кружка</b>', parse_mode: 'HTML' });
    const message = fake.lastBotMessage(GROUP, USER)!;
    expect(message.text).toBe('Кружка');
    expect(message.attachments[0]?.type).toBe('photo');
    expect(sent.message_id).toBe(message.conversationMessageId);
  });
});

describe('documents, voice and video', () => {
  it('sends a document as a VK doc (docs upload for the peer), bytes intact, caption kept', async () => {
    const pdf = Buffer.from('%PDF-1.4 form');
    const sent = await h.bot.api.sendDocument(USER, new InputFile(pdf, 'form.pdf'), { caption: 'Бланк' });
    const message = fake.lastBotMessage(GROUP, USER)!;
    expect(message.text).toBe('Бланк');
    expect(message.attachments[0]).toMatchObject({ type: 'doc', object: { title: 'form.pdf', owner_id: -GROUP } });
    expect(fake.doc(sent.document.file_id)).toMatchObject({ type: 'doc', peerId: USER });
    expect(fake.doc(sent.document.file_id)!.data.equals(pdf)).toBe(true);
    expect(sent.document.file_name).toBe('form.pdf');
    expect(fake.calls(GROUP).find((c) => c.method === 'docs.getMessagesUploadServer')?.params).toMatchObject({ type: 'doc', peer_id: String(USER) });
  });

  it('sends ogg/opus voice as a VK voice message, other audio as a doc; a video as a doc', async () => {
    const voice = await h.bot.api.sendVoice(USER, new InputFile(OGG_OPUS, 'voice.ogg'));
    expect(fake.lastBotMessage(GROUP, USER)!.attachments[0]).toMatchObject({ type: 'audio_message' });
    expect(fake.doc(voice.voice.file_id)!.data.equals(OGG_OPUS)).toBe(true);
    await h.bot.api.sendVoice(USER, new InputFile(Buffer.from('ID3 mp3'), 'voice.mp3'));
    expect(fake.lastBotMessage(GROUP, USER)!.attachments[0]).toMatchObject({ type: 'doc', object: { ext: 'mp3' } });
    await h.bot.api.sendVideo(USER, new InputFile(Buffer.from('mp4-bytes'), 'clip.mp4'), { caption: 'Видео' });
    expect(fake.lastBotMessage(GROUP, USER)).toMatchObject({ text: 'Видео', attachments: [{ type: 'doc', object: { ext: 'mp4', type: 6 } }] });
  });

  it('a refused upload is a VkUploadError (nothing sent), permanent for the send queues; a Telegram file_id is refused before any call', async () => {
    fake.failNext('docs.save', { code: 105 });
    const before = fake.calls(GROUP).filter((c) => c.method === 'messages.send').length;
    const err = await h.bridge.execute('sendDocument', { chat_id: USER, document: new InputFile(Buffer.from('x'), 'a.txt') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VkUploadError);
    expect(toSendFailure(err, 'sendDocument').kind).toBe('permanent');
    expect(fake.calls(GROUP).filter((c) => c.method === 'messages.send').length).toBe(before);
    await expect(h.bridge.execute('sendDocument', { chat_id: USER, document: 'BQACAgIAAxkBAAIBZ2' })).rejects.toThrow(/file_id has no meaning in VK/);
  });

  it("a file over VK's document limit is refused before any upload", async () => {
    const bridge = createVkBridge({ vk: h.vk, groupId: GROUP, store: h.store, docMaxBytes: 10 });
    const before = fake.calls(GROUP).length;
    await expect(bridge.execute('sendVideo', { chat_id: USER, video: new InputFile(Buffer.alloc(11), 'big.mp4') })).rejects.toThrow(VkUploadError);
    await expect(bridge.execute('sendVideo', { chat_id: USER, video: new InputFile(Buffer.alloc(11), 'big.mp4') })).rejects.toThrow(/200 MB document limit/);
    expect(fake.calls(GROUP).length).toBe(before);
  });

  it('with an idempotency key a repeated document send is one message (random_id from the key)', async () => {
    const call = () => h.bridge.execute('sendDocument', { chat_id: USER, document: new InputFile(Buffer.from('same'), 'same.txt') }, { idempotencyKey: 'support-m1-0' }) as Promise<{ message_id: number }>;
    const [a, b] = [await call(), await call()];
    expect(a.message_id).toBe(b.message_id);
    expect(fake.conversation(GROUP, USER).messages.filter((m) => m.out)).toHaveLength(1);
  });
});

describe('what has no VK form fails loudly', () => {
  it('rejects an unsupported method without calling VK', async () => {
    const before = fake.calls(GROUP).length;
    await expect(h.bot.api.sendDice(USER, '🎲')).rejects.toBeInstanceOf(UnsupportedBotApiMethodError);
    await expect(h.bot.api.raw.setMyCommands({ commands: [] })).rejects.toThrow(/setMyCommands.*no VK form/);
    await expect(h.bot.api.sendMessage(USER, 'x', { reply_markup: new Keyboard().requestContact('Телефон') })).rejects.toThrow(/request_contact/);
    expect(fake.calls(GROUP).length).toBe(before);
  });
});

describe('VK errors', () => {
  it('reads as Bot API errors for the brain: 901 → 403, 9 → 429 with retry_after, 911 → 400', async () => {
    expect(toTelegramError(new VkCallError(9, 'Flood control', 'messages.send'))).toMatchObject({ ok: false, error_code: 429, parameters: { retry_after: 1 } });
    const cases: Array<[number, number]> = [[901, 403], [902, 403], [911, 400], [914, 400]];
    for (const [code, status] of cases) {
      fake.failNext('messages.send', { code, peerId: USER });
      const err = await h.bot.api.sendMessage(USER, `check ${code}`).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GrammyError);
      expect((err as GrammyError).error_code).toBe(status);
      if (status === 429) expect((err as GrammyError).parameters.retry_after).toBeGreaterThan(0);
    }
  });

  it('waits out error 6 (too many requests) and delivers', async () => {
    fake.failNext('messages.send', { code: 6 });
    await h.bot.api.sendMessage(USER, 'После паузы');
    expect(fake.lastBotMessage(GROUP, USER)!.text).toBe('После паузы');
    const codes = fake.calls(GROUP).filter((c) => c.method === 'messages.send').map((c) => c.error?.error_code ?? 0);
    expect(codes[0]).toBe(6);
    expect(codes.filter((c) => c === 0)).toHaveLength(1);
    expect(fake.conversation(GROUP, USER).messages.filter((m) => m.text === 'После паузы')).toHaveLength(1);
  });

  it('retries flood control under the one retry policy, and gives up after its retries', async () => {
    fake.failNext('messages.send', { code: 9, peerId: USER });
    await h.bot.api.sendMessage(USER, 'После флуд-контроля');
    expect(fake.lastBotMessage(GROUP, USER)!.text).toBe('После флуд-контроля');

    fake.failNext('messages.send', { code: 9, peerId: USER, times: 10 });
    const before = fake.calls(GROUP).filter((c) => c.method === 'messages.send').length;
    const err = await h.bot.api.sendMessage(USER, 'never').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrammyError);
    expect((err as GrammyError).error_code).toBe(429);
    // The first attempt and BOT_API_RETRY.maxRetries (3) retries.
    expect(fake.calls(GROUP).filter((c) => c.method === 'messages.send').length - before).toBe(4);
  });

  it('inside a conversation (its Api reaches VK through the bridge fetch) the same policy retries', async () => {
    // How createCustomerBot builds the client a conversation's Api uses.
    const api = new Api('vk-community', { fetch: createRetryingFetch(createBridgeFetch(h.bridge)) });
    fake.failNext('messages.send', { code: 9, peerId: USER });
    await api.sendMessage(USER, 'Из разговора');
    expect(fake.lastBotMessage(GROUP, USER)!.text).toBe('Из разговора');
    expect(fake.calls(GROUP).filter((c) => c.method === 'messages.send').map((c) => c.error?.error_code ?? 0)).toEqual([9, 0]);
  });

  it('classifies refusals for the send queues', async () => {
    const sender = createVkOutboundSender(h.bridge);
    const kinds: Record<number, string> = { 9: 'rate_limited', 901: 'blocked', 902: 'blocked', 911: 'permanent', 914: 'permanent', 100: 'permanent' };
    for (const [code, kind] of Object.entries(kinds)) {
      fake.failNext('messages.send', { code: Number(code) });
      const err = await sender.send({ method: 'sendMessage', payload: { chat_id: String(USER), text: 'n' } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SendFailure);
      expect([code, (err as SendFailure).kind]).toEqual([code, kind]);
    }
    const ok = await sender.send({ method: 'sendMessage', payload: { chat_id: String(USER), text: 'Заказ отправлен' } });
    expect(ok.messageId).toBe(String(fake.lastBotMessage(GROUP, USER)!.conversationMessageId));
    await expect(sender.send({ method: 'copyMessage', payload: { chat_id: String(USER) } })).rejects.toMatchObject({ kind: 'permanent' });
  });
});
