import { Bot, GrammyError, InputFile } from 'grammy';
import { describe, expect, it, vi } from 'vitest';
import { ERRORS } from '../../../src/fakes/telegram/index.js';
import { manualClock, startFake } from './helpers.js';

async function grammyBot(apiRoot: string, token: string) {
  const bot = new Bot(token, { client: { apiRoot } });
  await bot.init();
  return bot;
}

async function apiError(promise: Promise<unknown>): Promise<GrammyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GrammyError);
  return error as GrammyError;
}

describe('fake Telegram Bot API through grammY', () => {
  it('answers getMe and sendMessage with real shapes', async () => {
    const { fake, apiRoot, token, botInfo, user } = await startFake();
    const bot = await grammyBot(apiRoot, token);
    expect(bot.botInfo).toMatchObject({ id: botInfo.id, is_bot: true, username: 'kabinet_test_bot', can_join_groups: true });

    fake.sendText(token, user.id, '/start');
    const sent = await bot.api.sendMessage(user.id, 'Привет, <b>Анна</b>', {
      parse_mode: 'HTML',
      reply_markup: { inline_keyboard: [[{ text: 'Заказы', callback_data: 'orders:list' }]] },
    });
    expect(sent).toMatchObject({
      message_id: 2,
      from: { id: botInfo.id, is_bot: true },
      chat: { id: user.id, type: 'private', first_name: 'Anna' },
      text: 'Привет, Анна',
      entities: [{ type: 'bold', offset: 8, length: 4 }],
      reply_markup: { inline_keyboard: [[{ text: 'Заказы', callback_data: 'orders:list' }]] },
    });
    expect(typeof sent.date).toBe('number');

    const chat = fake.chat(token, user.id);
    expect(chat.map((m) => [m.direction, m.text])).toEqual([
      ['in', '/start'],
      ['out', 'Привет, Анна'],
    ]);
    expect(chat[0]?.message.entities).toEqual([{ type: 'bot_command', offset: 0, length: 6 }]);
  });

  it('rejects unknown tokens with 401 and unknown methods with 404', async () => {
    const { apiRoot } = await startFake();
    const response = await fetch(`${apiRoot}/bot123:nope/getMe`);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ ok: false, error_code: 401, description: 'Unauthorized' });

    const stranger = new Bot('123:nope', { client: { apiRoot } });
    expect((await apiError(stranger.init())).error_code).toBe(401);

    const { apiRoot: root2, token: token2 } = await startFake();
    const notFound = await fetch(`${root2}/bot${token2}/sendTelepathy`, { method: 'POST' });
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toEqual({ ok: false, error_code: 404, description: 'Not Found' });
  });

  it('accepts form-encoded and query-string calls, method names case-insensitively', async () => {
    const { fake, apiRoot, token, user } = await startFake();
    fake.sendText(token, user.id, 'hi');
    const form = await fetch(`${apiRoot}/bot${token}/sendmessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ chat_id: String(user.id), text: 'form', reply_markup: '{"remove_keyboard":true}' }),
    });
    expect(await form.json()).toMatchObject({ ok: true, result: { text: 'form' } });
    const query = await fetch(`${apiRoot}/bot${token}/sendMessage?chat_id=${user.id}&text=query`);
    expect(await query.json()).toMatchObject({ ok: true, result: { text: 'query' } });
    expect(fake.calls(token).at(-2)?.params).toEqual({ chat_id: user.id, text: 'form', reply_markup: { remove_keyboard: true } });
  });

  it('reports chat not found, empty and too long texts, and entity parse errors', async () => {
    const { fake, apiRoot, token, user } = await startFake();
    const bot = await grammyBot(apiRoot, token);
    const notFound = await apiError(bot.api.sendMessage(424242, 'hello'));
    expect([notFound.error_code, notFound.description]).toEqual([400, 'Bad Request: chat not found']);

    const notStarted = await apiError(bot.api.sendMessage(user.id, 'hello'));
    expect(notStarted.description).toBe(`Forbidden: ${ERRORS.cantInitiate}`);

    fake.sendText(token, user.id, '/start');
    expect((await apiError(bot.api.sendMessage(user.id, '  '))).description).toBe('Bad Request: message text is empty');
    expect((await apiError(bot.api.sendMessage(user.id, 'я'.repeat(4097)))).description).toBe('Bad Request: message is too long');
    // 4096 characters after parsing is fine even if the source is longer.
    await bot.api.sendMessage(user.id, `<b>${'a'.repeat(4096)}</b>`, { parse_mode: 'HTML' });

    const unclosed = await apiError(bot.api.sendMessage(user.id, '<b>bold', { parse_mode: 'HTML' }));
    expect(unclosed.description).toBe(`Bad Request: can't parse entities: Can't find end tag corresponding to start tag "b"`);
    const unknownTag = await apiError(bot.api.sendMessage(user.id, 'a <blink>b</blink>', { parse_mode: 'HTML' }));
    expect(unknownTag.description).toBe(`Bad Request: can't parse entities: Unsupported start tag "blink" at byte offset 2`);
    const reserved = await apiError(bot.api.sendMessage(user.id, 'Заказ №1.', { parse_mode: 'MarkdownV2' }));
    expect(reserved.description).toBe(`Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'`);
    const ok = await bot.api.sendMessage(user.id, '*Заказ* №1\\. [ссылка](https://example.com)', { parse_mode: 'MarkdownV2' });
    expect(ok.text).toBe('Заказ №1. ссылка');
    expect(ok.entities).toEqual([
      { type: 'bold', offset: 0, length: 5 },
      { type: 'text_link', offset: 10, length: 6, url: 'https://example.com' },
    ]);
  });

  it('validates reply markup: BUTTON_DATA_INVALID, shape errors, request_contact outside private chats', async () => {
    const { fake, apiRoot, token, botInfo, user } = await startFake();
    const bot = await grammyBot(apiRoot, token);
    fake.sendText(token, user.id, '/start');
    const tooLong = await apiError(
      bot.api.sendMessage(user.id, 'x', { reply_markup: { inline_keyboard: [[{ text: 'b', callback_data: 'д'.repeat(33) }]] } }),
    );
    expect([tooLong.error_code, tooLong.description]).toEqual([400, 'Bad Request: BUTTON_DATA_INVALID']);
    await bot.api.sendMessage(user.id, 'x', { reply_markup: { inline_keyboard: [[{ text: 'b', callback_data: 'д'.repeat(32) }]] } });

    const textOnly = await apiError(bot.api.raw.sendMessage({ chat_id: user.id, text: 'x', reply_markup: { inline_keyboard: [[{ text: 'b' } as never]] } }));
    expect(textOnly.description).toBe("Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
    const notArray = await apiError(bot.api.raw.sendMessage({ chat_id: user.id, text: 'x', reply_markup: { inline_keyboard: {} as never } }));
    expect(notArray.description).toBe('Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup must be an Array');

    const contactKeyboard = { keyboard: [[{ text: 'Поделиться номером', request_contact: true }]], resize_keyboard: true };
    await bot.api.sendMessage(user.id, 'Номер?', { reply_markup: contactKeyboard });
    expect(fake.lastBotMessage(token, user.id)?.reply_markup).toBeUndefined();
    expect(fake.chat(token, user.id).at(-1)?.replyMarkup).toEqual(contactKeyboard);

    const group = fake.createGroup({ title: 'Staff', members: [botInfo.id, user.id] });
    const inGroup = await apiError(bot.api.sendMessage(group.id, 'Номер?', { reply_markup: contactKeyboard }));
    expect(inGroup.description).toBe('Bad Request: phone number can be requested in private chats only');
  });

  it('edits messages and reports not modified, not found and cannot be edited', async () => {
    const { fake, apiRoot, token, user } = await startFake();
    const bot = await grammyBot(apiRoot, token);
    const incoming = fake.sendText(token, user.id, '/start');
    const keyboard = { inline_keyboard: [[{ text: 'Да', callback_data: 'yes' }]] };
    const sent = await bot.api.sendMessage(user.id, 'Вопрос', { reply_markup: keyboard });

    const same = await apiError(bot.api.editMessageText(user.id, sent.message_id, 'Вопрос', { reply_markup: keyboard }));
    expect(same.description).toBe(`Bad Request: ${ERRORS.notModified}`);
    const sameMarkup = await apiError(bot.api.editMessageReplyMarkup(user.id, sent.message_id, { reply_markup: keyboard }));
    expect(sameMarkup.description).toBe(`Bad Request: ${ERRORS.notModified}`);

    const edited = await bot.api.editMessageText(user.id, sent.message_id, 'Ответ принят');
    expect(edited).toMatchObject({ message_id: sent.message_id, text: 'Ответ принят' });
    expect(edited).not.toHaveProperty('reply_markup');
    expect(typeof (edited as { edit_date?: number }).edit_date).toBe('number');

    expect((await apiError(bot.api.editMessageText(user.id, 999, 'x'))).description).toBe('Bad Request: message to edit not found');
    expect((await apiError(bot.api.editMessageText(user.id, incoming.message?.message_id ?? 0, 'x'))).description).toBe(
      "Bad Request: message can't be edited",
    );
    expect((await apiError(bot.api.editMessageCaption(user.id, sent.message_id, { caption: 'c' }))).description).toBe(
      'Bad Request: there is no caption in the message to edit',
    );

    await bot.api.deleteMessage(user.id, sent.message_id);
    expect((await apiError(bot.api.deleteMessage(user.id, sent.message_id))).description).toBe('Bad Request: message to delete not found');
    expect(fake.chat(token, user.id).map((m) => m.text)).toEqual(['/start']);
  });

  it('answers a callback query once; the second answer and expired queries fail', async () => {
    const clock = manualClock();
    const { fake, apiRoot, token, user } = await startFake({ now: clock.now, callbackQueryTimeoutMs: 15_000 });
    const bot = await grammyBot(apiRoot, token);
    fake.sendText(token, user.id, '/start');
    const sent = await bot.api.sendMessage(user.id, 'Меню', { reply_markup: { inline_keyboard: [[{ text: 'Заказы', callback_data: 'orders' }]] } });

    const press = fake.pressButton(token, user.id, sent.message_id, 'orders');
    const query = press.callback_query;
    expect(query).toMatchObject({ from: { id: user.id }, data: 'orders', message: { message_id: sent.message_id } });
    expect(() => fake.pressButton(token, user.id, sent.message_id, 'missing')).toThrow(/no button/);

    await bot.api.answerCallbackQuery(query?.id ?? '', { text: 'Загружаю' });
    expect(fake.callbackAnswer(token, query?.id ?? '')).toMatchObject({ text: 'Загружаю' });
    const twice = await apiError(bot.api.answerCallbackQuery(query?.id ?? ''));
    expect([twice.error_code, twice.description]).toEqual([400, `Bad Request: ${ERRORS.queryTooOld}`]);
    expect((await apiError(bot.api.answerCallbackQuery('123456'))).description).toBe(`Bad Request: ${ERRORS.queryTooOld}`);

    const late = fake.pressButton(token, user.id, sent.message_id, 'orders').callback_query?.id ?? '';
    expect(late).not.toBe(query?.id);
    clock.advance(15_001);
    expect((await apiError(bot.api.answerCallbackQuery(late))).description).toBe(`Bad Request: ${ERRORS.queryTooOld}`);
  });

  it('answers 403 after the user blocks the bot and emits my_chat_member', async () => {
    const { fake, apiRoot, token, botInfo, user } = await startFake();
    const bot = await grammyBot(apiRoot, token);
    fake.sendText(token, user.id, '/start');
    await bot.api.sendMessage(user.id, 'hello');
    fake.blockBot(token, user.id);
    const blocked = await apiError(bot.api.sendMessage(user.id, 'are you there?'));
    expect([blocked.error_code, blocked.description]).toEqual([403, 'Forbidden: bot was blocked by the user']);

    const updates = await bot.api.getUpdates({ offset: 0 });
    expect(updates.map((u) => Object.keys(u)[1])).toEqual(['message', 'my_chat_member']);
    expect(updates[1]?.my_chat_member).toMatchObject({
      chat: { id: user.id, type: 'private' },
      from: { id: user.id },
      old_chat_member: { status: 'member', user: { id: botInfo.id } },
      new_chat_member: { status: 'kicked', user: { id: botInfo.id } },
    });
    fake.unblockBot(token, user.id);
    await bot.api.sendMessage(user.id, 'welcome back');
  });

  it('uploads a photo from grammY InputFile as multipart and serves it through getFile', async () => {
    const { fake, apiRoot, token, user } = await startFake();
    const bot = await grammyBot(apiRoot, token);
    fake.sendText(token, user.id, '/start');
    const bytes = Buffer.from('not really a jpeg, but bytes all the same');
    const sent = await bot.api.sendPhoto(user.id, new InputFile(bytes, 'receipt.jpg'), { caption: 'Чек <i>№7</i>', parse_mode: 'HTML' });
    expect(sent.caption).toBe('Чек №7');
    expect(sent.caption_entities).toEqual([{ type: 'italic', offset: 4, length: 2 }]);
    const largest = sent.photo?.at(-1);
    expect(largest?.file_size).toBe(bytes.length);

    const file = await bot.api.getFile(largest?.file_id ?? '');
    const download = await fetch(`${apiRoot}/file/bot${token}/${file.file_path}`);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(bytes);

    // The file_id can be sent again without uploading.
    const again = await bot.api.sendPhoto(user.id, largest?.file_id ?? '');
    expect(again.photo?.at(-1)?.file_id).toBe(largest?.file_id);
    expect((await apiError(bot.api.sendPhoto(user.id, 'garbage'))).description).toBe(`Bad Request: ${ERRORS.wrongFileIdentifier}`);

    const doc = await bot.api.sendDocument(user.id, new InputFile(Buffer.from('a,b\n1,2\n'), 'orders.csv'));
    expect(doc.document).toMatchObject({ file_name: 'orders.csv', file_size: 8 });
  });

  it('simulates contacts, deep links and copies', async () => {
    const { fake, apiRoot, token, user } = await startFake();
    const bot = await grammyBot(apiRoot, token);
    const deepLink = fake.startWithPayload(token, user.id, 'order_42');
    expect(deepLink.message).toMatchObject({ text: '/start order_42', entities: [{ type: 'bot_command', offset: 0, length: 6 }] });
    const own = fake.sendContact(token, user.id, { phone: '+79001234567', firstName: 'Anna' });
    expect(own.message?.contact).toEqual({ phone_number: '+79001234567', first_name: 'Anna', user_id: user.id });
    const typed = fake.sendContact(token, user.id, { phone: '+79007654321', firstName: 'Boris', userId: undefined });
    expect(typed.message?.contact).not.toHaveProperty('user_id');

    const copies = await bot.api.copyMessages(user.id, user.id, [1, 2]);
    expect(copies.length).toBe(2);
    const wrongOrder = await apiError(bot.api.copyMessages(user.id, user.id, [2, 1]));
    expect(wrongOrder.error_code).toBe(400);
    const copy = await bot.api.copyMessage(user.id, user.id, own.message?.message_id ?? 0);
    expect(fake.chat(token, user.id).find((m) => m.messageId === copy.message_id)?.message.contact?.phone_number).toBe('+79001234567');
  });

  it('sends a forwarded message: a contact card carrying forward_origin, as the bot receives it', async () => {
    const { fake, apiRoot, token, user } = await startFake();
    const bot = await grammyBot(apiRoot, token);
    const victim = fake.createUser({ firstName: 'Vera' });
    const origin = { type: 'user' as const, date: 1_700_000_000, sender_user: victim };
    const forwarded = fake.sendContact(token, user.id, { phone: '+79001112233', firstName: 'Vera', userId: user.id }, { forwardOrigin: origin });
    expect(forwarded.message).toMatchObject({ from: { id: user.id }, forward_origin: origin, contact: { phone_number: '+79001112233', user_id: user.id } });
    const [received] = await bot.api.getUpdates({ offset: 0 });
    expect(received?.message?.forward_origin).toEqual(origin);
    // Without the option nothing changes: a message is not a forward.
    expect(fake.sendContact(token, user.id, { phone: '+79001112233', firstName: 'Anna' }).message).not.toHaveProperty('forward_origin');
  });

  it('injects failures for a method and records every call', async () => {
    const { fake, apiRoot, token, user } = await startFake();
    const bot = await grammyBot(apiRoot, token);
    fake.sendText(token, user.id, '/start');
    fake.failNext(token, 'sendMessage', { errorCode: 502, description: 'Bad Gateway', times: 1 });
    const seen: string[] = [];
    const off = fake.onCall((c) => seen.push(`${c.method}:${c.status}`));
    await expect(bot.api.sendMessage(user.id, 'x')).rejects.toThrow();
    await bot.api.sendMessage(user.id, 'x');
    off();
    expect(seen).toEqual(['sendMessage:502', 'sendMessage:200']);
    const calls = await fake.waitForCalls(token, 'sendMessage', 2);
    expect(calls.map((c) => c.response.ok)).toEqual([false, true]);
  });

  it('with apiLatencyMs, a call takes effect at once and its answer follows that long after', async () => {
    const { fake, apiRoot, token, user } = await startFake({ apiLatencyMs: 400 });
    fake.sendText(token, user.id, '/start');
    let answered = false;
    const sending = fetch(`${apiRoot}/bot${token}/sendMessage`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ chat_id: user.id, text: 'hi' }) }).then(async (res) => {
      answered = true;
      return (await res.json()) as { ok: boolean };
    });
    // The message is in the chat (and counted by the rate limits) while the answer is on its way.
    await vi.waitFor(() => expect(fake.calls(token).some((c) => c.method === 'sendMessage' && c.status === 200)).toBe(true), { timeout: 5_000, interval: 5 });
    expect(answered).toBe(false);
    expect((await sending).ok).toBe(true);
  });
});

