import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { APIError, Keyboard, type VK } from 'vk-io';
import { createFakeVk, type FakeVk } from '../../../src/fakes/vk/index.js';
import { OGG_OPUS, PNG_1X1, rawCall, vkFor } from './support.js';

const GROUP = 1001;
const TOKEN = 'group-token-1001';
const USER = 501;

let fake: FakeVk;
let vk: VK;

beforeAll(async () => {
  fake = createFakeVk();
  await fake.listen();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset({ full: true });
  fake.createGroup({ id: GROUP, token: TOKEN, confirmationCode: 'abc123', secret: 's3cret' });
  fake.createUser({ id: USER, firstName: 'Ivan', lastName: 'Petrov' });
  vk = vkFor(fake, TOKEN);
});

async function vkError(promise: Promise<unknown>): Promise<APIError> {
  const error = await promise.then(
    () => {
      throw new Error('expected an API error');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(APIError);
  return error as APIError;
}

describe('envelope and auth', () => {
  it('answers a wrong or missing token with error 5 and request_params, HTTP 200', async () => {
    const wrong = await rawCall(fake, 'users.get', { access_token: 'nope', v: '5.199', user_ids: USER });
    expect(wrong.error?.error_code).toBe(5);
    expect(wrong.error?.error_msg).toMatch(/^User authorization failed: invalid access_token/);
    expect(wrong.error?.request_params).toContainEqual({ key: 'method', value: 'users.get' });
    expect(wrong.error?.request_params).toContainEqual({ key: 'user_ids', value: String(USER) });
    expect(wrong.error?.request_params.some((p) => p.key === 'access_token')).toBe(false);
    const missing = await rawCall(fake, 'users.get', { v: '5.199' });
    expect(missing.error?.error_code).toBe(5);
    expect(await vkError(vkFor(fake, 'bad').api.users.get({ user_ids: [USER] }))).toMatchObject({ code: 5 });
  });

  it('users.get and groups.getById return real shapes', async () => {
    const users = await vk.api.users.get({ user_ids: [USER], fields: ['sex'] });
    expect(users).toEqual([
      expect.objectContaining({ id: USER, first_name: 'Ivan', last_name: 'Petrov', sex: 0, can_access_closed: true }),
    ]);
    const byId = await vk.api.groups.getById({});
    expect(byId.groups[0]).toMatchObject({ id: GROUP, screen_name: `club${GROUP}` });
    expect(await rawCall(fake, 'no.suchMethod', { access_token: TOKEN })).toMatchObject({ error: { error_code: 3 } });
  });
});

describe('messages.send', () => {
  it('sends, records the dialog and dedupes random_id per peer', async () => {
    const id = await vk.api.messages.send({ peer_id: USER, random_id: 42, message: 'Hello' });
    const again = await vk.api.messages.send({ peer_id: USER, random_id: 42, message: 'Hello' });
    expect(again).toBe(id);
    const other = await vk.api.messages.send({ user_id: USER, random_id: 43, message: 'Hello' });
    expect(other).not.toBe(id);
    const dialog = fake.conversation(GROUP, USER);
    expect(dialog.messages.map((m) => [m.text, m.out, m.conversationMessageId])).toEqual([
      ['Hello', true, 1],
      ['Hello', true, 2],
    ]);
    expect(fake.lastBotMessage(GROUP, USER)?.id).toBe(other);
  });

  it('peer_ids returns an array with per-peer errors', async () => {
    fake.createUser({ id: 502, firstName: 'Anna' });
    fake.createUser({ id: 503, firstName: 'Oleg', allowsMessages: false });
    const result = await vk.api.messages.send({ peer_ids: [USER, 502, 503], random_id: 7, message: 'News' });
    expect(result).toEqual([
      { peer_id: USER, message_id: expect.any(Number), conversation_message_id: 1 },
      { peer_id: 502, message_id: expect.any(Number), conversation_message_id: 1 },
      { peer_id: 503, error: { code: 901, description: "Can't send messages for users without permission" } },
    ]);
    const tooMany = Array.from({ length: 101 }, (_, i) => i + 1);
    expect(await vkError(vk.api.messages.send({ peer_ids: tooMany, random_id: 8, message: 'x' }))).toMatchObject({ code: 100 });
  });

  it('validates parameters: 100, 914, 901, 902', async () => {
    const noRandom = await rawCall(fake, 'messages.send', { access_token: TOKEN, peer_id: USER, message: 'x' });
    expect(noRandom.error?.error_code).toBe(100);
    expect(noRandom.error?.error_msg).toMatch(/^One of the parameters specified was missing or invalid: /);
    expect(await vkError(vk.api.messages.send({ peer_id: USER, random_id: 1 }))).toMatchObject({ code: 100 });
    const long = await vkError(vk.api.messages.send({ peer_id: USER, random_id: 2, message: 'я'.repeat(9001) }));
    expect(long).toMatchObject({ code: 914, message: 'Code №914 - Message is too long' });
    await vk.api.messages.send({ peer_id: USER, random_id: 3, message: 'я'.repeat(9000) });

    fake.denyMessages(GROUP, USER);
    const denied = await vkError(vk.api.messages.send({ peer_id: USER, random_id: 4, message: 'hi' }));
    expect(denied).toMatchObject({ code: 901, message: "Code №901 - Can't send messages for users without permission" });
    fake.allowMessages(GROUP, USER);
    await vk.api.messages.send({ peer_id: USER, random_id: 5, message: 'hi' });

    fake.createUser({ id: 504, firstName: 'Private', privacyClosed: true });
    expect(await vkError(vk.api.messages.send({ peer_id: 504, random_id: 6, message: 'hi' }))).toMatchObject({ code: 902 });
  });

  it('flood control: the same text more than 5 times in 10 s to one peer → 9', async () => {
    for (let i = 0; i < 5; i += 1) await vk.api.messages.send({ peer_id: USER, random_id: 100 + i, message: 'Menu' });
    expect(await vkError(vk.api.messages.send({ peer_id: USER, random_id: 200, message: 'Menu' }))).toMatchObject({
      code: 9,
      message: 'Code №9 - Flood control',
    });
    await vk.api.messages.send({ peer_id: USER, random_id: 201, message: 'Other text' });
    // A resend with a known random_id is a dedupe hit, not a new message.
    await vk.api.messages.send({ peer_id: USER, random_id: 100, message: 'Menu' });
  });

  it('validates keyboards (911) and tracks the persistent keyboard', async () => {
    const inline = Keyboard.builder().inline();
    for (let i = 0; i < 11; i += 1) {
      inline.textButton({ label: `b${i}` });
      if (i % 2 === 1) inline.row();
    }
    const tooMany = await vkError(vk.api.messages.send({ peer_id: USER, random_id: 1, message: 'x', keyboard: inline }));
    expect(tooMany).toMatchObject({ code: 911, message: 'Code №911 - Keyboard format is invalid' });
    const longLabel = JSON.stringify({ inline: true, buttons: [[{ action: { type: 'text', label: 'x'.repeat(41) } }]] });
    expect(await vkError(vk.api.messages.send({ peer_id: USER, random_id: 2, message: 'x', keyboard: longLabel }))).toMatchObject({ code: 911 });
    const coloredLink = JSON.stringify({ buttons: [[{ action: { type: 'open_link', label: 'Site', link: 'https://a.b' }, color: 'primary' }]] });
    expect(await vkError(vk.api.messages.send({ peer_id: USER, random_id: 3, message: 'x', keyboard: coloredLink }))).toMatchObject({ code: 911 });
    const sevenRows = JSON.stringify({ inline: true, buttons: Array.from({ length: 7 }, (_, i) => [{ action: { type: 'text', label: `r${i}` } }]) });
    expect(await vkError(vk.api.messages.send({ peer_id: USER, random_id: 4, message: 'x', keyboard: sevenRows }))).toMatchObject({ code: 911 });

    const menu = Keyboard.builder()
      .textButton({ label: 'Orders', payload: { cmd: 'orders' }, color: Keyboard.PRIMARY_COLOR })
      .urlButton({ label: 'Site', url: 'https://example.com' })
      .oneTime();
    await vk.api.messages.send({ peer_id: USER, random_id: 5, message: 'Menu', keyboard: menu });
    await vk.api.messages.send({ peer_id: USER, random_id: 6, message: 'No keyboard param' });
    const dialog = fake.conversation(GROUP, USER);
    expect(dialog.keyboard?.oneTime).toBe(true);
    expect(dialog.keyboard?.buttons[0]?.[0]).toMatchObject({ type: 'text', label: 'Orders', payload: '{"cmd":"orders"}', color: 'primary' });
    const press = fake.pressButton(GROUP, USER, 'Orders');
    expect(press.event.object).toMatchObject({ message: { text: 'Orders', payload: '{"cmd":"orders"}' } });
    expect(fake.conversation(GROUP, USER).keyboard).toBeNull();
  });
});

describe('edit, delete, faults', () => {
  it('edits by conversation_message_id and message_id; unknown or foreign messages fail', async () => {
    const [sent] = await vk.api.messages.send({
      peer_ids: USER,
      random_id: 1,
      message: 'Order #1: new',
      keyboard: Keyboard.builder().inline().callbackButton({ label: 'Cancel', payload: { cancel: 1 } }),
    });
    expect(await vk.api.messages.edit({ peer_id: USER, conversation_message_id: sent!.conversation_message_id, message: 'Order #1: paid' })).toBe(1);
    let last = fake.lastBotMessage(GROUP, USER);
    expect(last).toMatchObject({ text: 'Order #1: paid', edited: true, editHistory: ['Order #1: new'] });
    expect(last?.keyboard).toBeUndefined();
    await vk.api.messages.edit({
      peer_id: USER,
      message_id: sent!.message_id,
      message: 'Order #1: shipped',
      keyboard: Keyboard.builder().inline().callbackButton({ label: 'Track', payload: { t: 1 } }),
    });
    last = fake.lastBotMessage(GROUP, USER);
    expect(last?.keyboard?.buttons[0]?.[0]?.label).toBe('Track');
    expect(await vkError(vk.api.messages.edit({ peer_id: USER, conversation_message_id: 999, message: 'x' }))).toMatchObject({ code: 100 });
    const incoming = fake.sendText(GROUP, USER, 'my text');
    expect(
      await vkError(vk.api.messages.edit({ peer_id: USER, conversation_message_id: incoming.result.conversationMessageId, message: 'x' })),
    ).toMatchObject({ code: 15 });
  });

  it('deletes for all and the user no longer sees the message', async () => {
    const id = (await vk.api.messages.send({ peer_id: USER, random_id: 1, message: 'oops' })) as unknown as number;
    expect(await vk.api.messages.delete({ message_ids: id, delete_for_all: 1 })).toEqual({ [id]: 1 });
    expect(fake.conversation(GROUP, USER).messages).toEqual([]);
    expect(await vkError(vk.api.messages.edit({ peer_id: USER, message_id: id, message: 'x' }))).toMatchObject({ code: 100 });
  });

  it('failNext injects errors, including captcha (14), then recovers', async () => {
    fake.failNext('messages.send', { code: 14, peerId: USER });
    const captcha = await vkError(vk.api.messages.send({ peer_id: USER, random_id: 1, message: 'x' }));
    expect(captcha).toMatchObject({ code: 14, message: 'Code №14 - Captcha needed' });
    expect(captcha.captchaSid).toEqual(expect.any(String));
    fake.failNext('users.get', { code: 10, message: 'Internal server error: boom', times: 2 });
    await vkError(vk.api.users.get({ user_ids: [USER] }));
    await vkError(vk.api.users.get({ user_ids: [USER] }));
    expect(await vk.api.users.get({ user_ids: [USER] })).toHaveLength(1);
    await vk.api.messages.send({ peer_id: USER, random_id: 2, message: 'x' });
    const calls = fake.calls(GROUP).map((c) => [c.method, c.error?.error_code ?? 'ok']);
    expect(calls).toEqual([
      ['messages.send', 14],
      ['users.get', 10],
      ['users.get', 10],
      ['users.get', 'ok'],
      ['messages.send', 'ok'],
    ]);
  });
});

describe('rate limit', () => {
  it('more than 20 requests in a second on one token → error 6; vk-io retries and gets through', async () => {
    const burst = await Promise.all(
      Array.from({ length: 30 }, () => rawCall(fake, 'users.get', { access_token: TOKEN, user_ids: USER })),
    );
    const limited = burst.filter((r) => r.error?.error_code === 6);
    expect(burst.filter((r) => r.response !== undefined)).toHaveLength(20);
    expect(limited).toHaveLength(10);
    expect(limited[0]?.error?.error_msg).toBe('Too many requests per second');

    fake.reset();
    const fast = vkFor(fake, TOKEN, { apiLimit: 200 });
    const results = await Promise.all(Array.from({ length: 25 }, () => fast.api.users.get({ user_ids: [USER] })));
    expect(results).toHaveLength(25);
    expect(fake.calls(GROUP).some((c) => c.error?.error_code === 6)).toBe(true);
  });

  it('can be switched off', async () => {
    const free = createFakeVk({ rateLimit: false });
    await free.listen();
    try {
      free.createGroup({ id: 1, token: 't', confirmationCode: 'c' });
      const burst = await Promise.all(Array.from({ length: 40 }, () => rawCall(free, 'groups.getById', { access_token: 't' })));
      expect(burst.every((r) => r.response !== undefined)).toBe(true);
    } finally {
      await free.close();
    }
  });
});

describe('execute (vk-io parallel_selected)', () => {
  it('batches messages.send through execute, one request against the rate limit, false for failures', async () => {
    fake.createUser({ id: 600, firstName: 'Denied', allowsMessages: false });
    const batched = vkFor(fake, TOKEN, { apiMode: 'parallel_selected' });
    const recipients = [USER, 600, USER, USER];
    const settled = await Promise.allSettled(
      recipients.map((peer_id, i) => batched.api.messages.send({ peer_id, random_id: 1000 + i, message: `m${i}` })),
    );
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const failure = settled[1];
    expect(failure?.status === 'rejected' && (failure.reason as APIError).code).toBe(901);
    const top = fake.calls(GROUP).filter((c) => !c.viaExecute);
    expect(top.map((c) => c.method)).toEqual(['execute']);
    expect(fake.calls(GROUP).filter((c) => c.viaExecute && c.method === 'messages.send')).toHaveLength(4);
    expect(fake.conversation(GROUP, USER).messages.map((m) => m.text)).toEqual(['m0', 'm2', 'm3']);

    const raw = await rawCall(fake, 'execute', {
      access_token: TOKEN,
      code: 'return [API.users.get({"user_ids":"501"}),API.messages.send({"peer_id":600,"random_id":5,"message":"a),API.x("})];',
    });
    expect(raw).toMatchObject({
      response: [[{ id: USER }], false],
      execute_errors: [{ method: 'messages.send', error_code: 901, error_msg: "Can't send messages for users without permission" }],
    });
    const bad = await rawCall(fake, 'execute', { access_token: TOKEN, code: 'var a = 1; return a;' });
    expect(bad.error?.error_code).toBe(12);
  });
});

describe('photo upload', () => {
  it('vk-io upload.messagePhoto works from a Buffer and the photo can be attached', async () => {
    const photo = await vk.upload.messagePhoto({ peer_id: USER, source: { value: PNG_1X1 } });
    expect(photo.ownerId).toBe(-GROUP);
    expect(photo.toString()).toMatch(new RegExp(`^photo-${GROUP}_\\d+_[0-9a-f]+$`));
    await vk.api.messages.send({ peer_id: USER, random_id: 1, attachment: photo.toString() });
    const sent = fake.lastBotMessage(GROUP, USER);
    expect(sent?.attachments[0]).toMatchObject({ type: 'photo', photo: { id: photo.id, owner_id: -GROUP } });
    const served = await fetch((sent?.attachments[0] as { photo: { orig_photo: { url: string } } }).photo.orig_photo.url);
    expect(Buffer.from(await served.arrayBuffer()).equals(PNG_1X1)).toBe(true);

    // From a URL: vk-io downloads it itself, then uploads.
    const fromUrl = await vk.upload.messagePhoto({ source: { value: (sent?.attachments[0] as { photo: { orig_photo: { url: string } } }).photo.orig_photo.url } });
    expect(fromUrl.id).not.toBe(photo.id);
  });

  it('rejects a non-image like VK: empty photo list → saveMessagesPhoto error 100', async () => {
    const error = await vkError(vk.upload.messagePhoto({ source: { value: Buffer.from('not an image') } }));
    expect(error.code).toBe(100);
  });
});

describe('documents and voice messages', () => {
  it('vk-io upload.messageDocument: getMessagesUploadServer → upload → docs.save; attached by doc<owner>_<id>; bytes served back', async () => {
    const bytes = Buffer.from('%PDF-1.4 return form');
    const doc = await vk.upload.messageDocument({ peer_id: USER, title: 'return-form.pdf', source: { value: bytes, filename: 'return-form.pdf' } });
    expect(doc.toString()).toMatch(new RegExp(`^doc-${GROUP}_\\d+_[0-9a-f]+$`));
    expect(fake.doc(doc.toString())).toMatchObject({ type: 'doc', title: 'return-form.pdf', peerId: USER });
    await vk.api.messages.send({ peer_id: USER, random_id: 7, attachment: doc.toString() });
    const sent = fake.lastBotMessage(GROUP, USER)!;
    expect(sent.attachments[0]).toMatchObject({ type: 'doc', object: { id: doc.id, owner_id: -GROUP, title: 'return-form.pdf', ext: 'pdf', size: bytes.length } });
    const served = await fetch((sent.attachments[0] as unknown as { object: { url: string } }).object.url);
    expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('vk-io upload.audioMessage takes ogg/opus and gives audio_message<owner>_<id>; anything else is refused', async () => {
    const voice = await vk.upload.audioMessage({ peer_id: USER, source: { value: OGG_OPUS, filename: 'voice.ogg' } });
    expect(voice.toString()).toMatch(new RegExp(`^audio_message-${GROUP}_\\d+_[0-9a-f]+$`));
    await vk.api.messages.send({ peer_id: USER, random_id: 8, attachment: voice.toString() });
    const sent = fake.lastBotMessage(GROUP, USER)!;
    expect(sent.attachments[0]).toMatchObject({ type: 'audio_message', object: { owner_id: -GROUP } });
    const link = (sent.attachments[0] as unknown as { object: { link_ogg: string } }).object.link_ogg;
    expect(Buffer.from(await (await fetch(link)).arrayBuffer()).equals(OGG_OPUS)).toBe(true);
    // An mp3 as a voice message: the upload host answers an error object, docs.save has no file.
    expect(await vkError(vk.upload.audioMessage({ peer_id: USER, source: { value: Buffer.from('ID3 mp3'), filename: 'a.mp3' } }))).toMatchObject({ code: 100 });
  });

  it('bad input: no peer_id or a wrong type → 100; an empty upload → 100; a forged or reused file string → 105', async () => {
    expect((await rawCall(fake, 'docs.getMessagesUploadServer', { access_token: TOKEN, type: 'doc' })).error?.error_code).toBe(100);
    expect((await rawCall(fake, 'docs.getMessagesUploadServer', { access_token: TOKEN, type: 'video', peer_id: USER })).error?.error_code).toBe(100);
    const server = (await rawCall(fake, 'docs.getMessagesUploadServer', { access_token: TOKEN, type: 'doc', peer_id: USER })).response as { upload_url: string };
    const empty = new FormData();
    empty.append('file', new Blob([]), 'empty.txt');
    expect(await (await fetch(server.upload_url, { method: 'POST', body: empty })).json()).toMatchObject({ error: 'no_file' });
    expect((await rawCall(fake, 'docs.save', { access_token: TOKEN })).error?.error_code).toBe(100);
    expect((await rawCall(fake, 'docs.save', { access_token: TOKEN, file: 'forged|0000' })).error?.error_code).toBe(105);
    const form = new FormData();
    form.append('file', new Blob([Buffer.from('hello')]), 'a.txt');
    const { file } = (await (await fetch(server.upload_url, { method: 'POST', body: form })).json()) as { file: string };
    expect((await rawCall(fake, 'docs.save', { access_token: TOKEN, file })).response).toMatchObject({ type: 'doc', doc: { title: 'a.txt', ext: 'txt', size: 5 } });
    expect((await rawCall(fake, 'docs.save', { access_token: TOKEN, file })).error?.error_code).toBe(105);
    // Another community cannot save this community's upload.
    fake.createGroup({ id: GROUP + 1, token: `${TOKEN}-2`, confirmationCode: 'x', secret: 'y' });
    const again = new FormData();
    again.append('file', new Blob([Buffer.from('hello')]), 'a.txt');
    const second = (await (await fetch(server.upload_url, { method: 'POST', body: again })).json()) as { file: string };
    expect((await rawCall(fake, 'docs.save', { access_token: `${TOKEN}-2`, file: second.file })).error?.error_code).toBe(105);
  });
});
