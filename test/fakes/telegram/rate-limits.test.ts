import { Bot, GrammyError } from 'grammy';
import { describe, expect, it } from 'vitest';
import { errorOf, manualClock, startFake } from './helpers.js';


/** Many people who have each opened the chat with the bot. */
function audience(fake: Awaited<ReturnType<typeof startFake>>['fake'], token: string, count: number): number[] {
  return Array.from({ length: count }, (_, i) => {
    const person = fake.createUser({ firstName: `Customer ${i}` });
    fake.sendText(token, person.id, '/start');
    return person.id;
  });
}

describe('rate limits', () => {
  it('limits a bot to 30 messages per second globally, with retry_after that holds until it passes', async () => {
    const clock = manualClock();
    const { fake, apiRoot, token } = await startFake({ now: clock.now });
    const bot = new Bot(token, { client: { apiRoot } });
    const people = audience(fake, token, 31);
    for (const id of people.slice(0, 30)) await bot.api.sendMessage(id, 'Скидка 10%');

    const limited = await errorOf(bot.api.sendMessage(people[30] ?? 0, 'Скидка 10%'), GrammyError);
    expect(limited.error_code).toBe(429);
    expect(limited.parameters.retry_after).toBe(1);
    expect(limited.description).toBe('Too Many Requests: retry after 1');
    const raw = fake.calls(token).at(-1)?.response;
    expect(raw).toEqual({ ok: false, error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } });

    clock.advance(500);
    expect((await errorOf(bot.api.sendMessage(people[30] ?? 0, 'again'), GrammyError)).error_code).toBe(429);
    clock.advance(500);
    await bot.api.sendMessage(people[30] ?? 0, 'Скидка 10%');
  });

  it('lets allow_paid_broadcast go past 30 per second', async () => {
    const clock = manualClock();
    const { fake, apiRoot, token } = await startFake({ now: clock.now });
    const bot = new Bot(token, { client: { apiRoot } });
    for (const id of audience(fake, token, 40)) await bot.api.sendMessage(id, 'paid', { allow_paid_broadcast: true });
    expect(fake.calls(token).filter((c) => c.status === 429)).toEqual([]);
  });

  it('limits one private chat to a burst of 3, then about one per second', async () => {
    const clock = manualClock();
    const { fake, apiRoot, token, user } = await startFake({ now: clock.now });
    const bot = new Bot(token, { client: { apiRoot } });
    fake.sendText(token, user.id, '/start');
    for (let i = 0; i < 3; i += 1) await bot.api.sendMessage(user.id, `m${i}`);
    const limited = await errorOf(bot.api.sendMessage(user.id, 'm3'), GrammyError);
    expect([limited.error_code, limited.parameters.retry_after]).toEqual([429, 1]);
    // Other chats are not affected.
    const [other] = audience(fake, token, 1);
    await bot.api.sendMessage(other ?? 0, 'fine');
    // Edits count as well; getMe, answerCallbackQuery and sendChatAction do not.
    await bot.api.getMe();
    await bot.api.sendChatAction(user.id, 'typing');
    clock.advance(1000);
    const sent = await bot.api.sendMessage(user.id, 'm3');
    expect((await errorOf(bot.api.editMessageText(user.id, sent.message_id, 'edited'), GrammyError)).error_code).toBe(429);
    clock.advance(1000);
    await bot.api.editMessageText(user.id, sent.message_id, 'edited');
  });

  it('limits a group to 20 messages per minute', async () => {
    const clock = manualClock();
    const { fake, apiRoot, token, botInfo, user } = await startFake({ now: clock.now });
    const bot = new Bot(token, { client: { apiRoot } });
    const group = fake.createGroup({ title: 'Поддержка', members: [botInfo.id, user.id] });
    for (let i = 0; i < 20; i += 1) await bot.api.sendMessage(group.id, `ticket ${i}`);
    const limited = await errorOf(bot.api.sendMessage(group.id, 'ticket 20'), GrammyError);
    expect(limited.error_code).toBe(429);
    expect(limited.parameters.retry_after).toBe(3);
    clock.advance(3000);
    await bot.api.sendMessage(group.id, 'ticket 20');
  });

  it('can be configured or switched off', async () => {
    const clock = manualClock();
    const off = await startFake({ now: clock.now, rateLimits: false });
    const bot = new Bot(off.token, { client: { apiRoot: off.apiRoot } });
    off.fake.sendText(off.token, off.user.id, '/start');
    for (let i = 0; i < 50; i += 1) await bot.api.sendMessage(off.user.id, `m${i}`);

    const strict = await startFake({ now: clock.now, rateLimits: { privateChat: { burst: 1, perSecond: 0.2 } } });
    const strictBot = new Bot(strict.token, { client: { apiRoot: strict.apiRoot } });
    strict.fake.sendText(strict.token, strict.user.id, '/start');
    await strictBot.api.sendMessage(strict.user.id, 'one');
    expect((await errorOf(strictBot.api.sendMessage(strict.user.id, 'two'), GrammyError)).parameters.retry_after).toBe(5);
  });

  it('injects a 429 with failNext for a specific chat', async () => {
    const { fake, apiRoot, token, user } = await startFake();
    const bot = new Bot(token, { client: { apiRoot } });
    fake.sendText(token, user.id, '/start');
    fake.failNext(token, 'sendMessage', { errorCode: 429, description: 'Too Many Requests: retry after 7', retryAfter: 7, chatId: user.id });
    const limited = await errorOf(bot.api.sendMessage(user.id, 'x'), GrammyError);
    expect([limited.error_code, limited.parameters.retry_after]).toEqual([429, 7]);
    await bot.api.sendMessage(user.id, 'x');
  });
});
