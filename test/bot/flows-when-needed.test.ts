/**
 * The flows' registrations run only on the updates that need them (customer-bot.ts,
 * registerFlowsWhenNeeded): real grammY and the real conversations plugin, in-memory storage.
 */
import { conversations, createConversation, type Conversation } from '@grammyjs/conversations';
import { Bot, type Context, type MiddlewareFn } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import { describe, expect, it } from 'vitest';
import { registerFlowsWhenNeeded } from '../../src/bot/customer-bot.js';
import type { BotContext } from '../../src/bot/context.js';

const botInfo = { id: 1, is_bot: true, first_name: 'Shop', username: 'shop_bot' } as UserFromGetMe;

function harness() {
  const sent: string[] = [];
  // The conversations plugin builds its own Api from the bot's client options: the calls are
  // answered by the client's fetch, here an in-memory Bot API.
  const fetch = (async (url: string | URL, init?: RequestInit) => {
    if (String(url).endsWith('/sendMessage')) sent.push((JSON.parse(String(init?.body)) as { text: string }).text);
    return new Response(JSON.stringify({ ok: true, result: { message_id: sent.length, date: 0, chat: { id: 7, type: 'private' } } }), { headers: { 'content-type': 'application/json' } });
  }) as typeof globalThis.fetch;
  const bot = new Bot<BotContext>('1:test', { botInfo, client: { fetch } });
  const memory = new Map<string, unknown>();
  bot.use(
    conversations<BotContext, Context>({
      storage: { type: 'key', adapter: { read: (k: string) => memory.get(k) as never, write: (k: string, v: unknown) => void memory.set(k, v), delete: (k: string) => void memory.delete(k) }, getStorageKey: (ctx) => String(ctx.chatId) },
    }),
  );
  const registered: string[] = [];
  const counted = (name: string, mw: MiddlewareFn<BotContext>): MiddlewareFn<BotContext> => (ctx, next) => {
    registered.push(name);
    return mw(ctx, next);
  };
  async function askName(conversation: Conversation<BotContext, Context>, ctx: Context) {
    await ctx.reply('your name?');
    const answer = await conversation.waitFor('message:text');
    await answer.reply(`hello ${answer.message.text}`);
  }
  async function askCity(conversation: Conversation<BotContext, Context>, ctx: Context) {
    await ctx.reply('your city?');
    await conversation.waitFor('message:text');
  }
  bot.use(registerFlowsWhenNeeded([counted('name', createConversation(askName, 'name')), counted('city', createConversation(askCity, 'city'))]));
  bot.command('name', (ctx) => ctx.conversation.enter('name'));
  bot.command('city', (ctx) => ctx.conversation.enter('city'));
  bot.command('menu', (ctx) => ctx.reply('menu'));
  bot.on('message:text', (ctx) => ctx.reply(`no flow: ${ctx.message.text}`));
  let updateId = 0;
  const say = (text: string) =>
    bot.handleUpdate({
      update_id: ++updateId,
      message: { message_id: updateId, date: 0, chat: { id: 7, type: 'private', first_name: 'A' }, from: { id: 7, is_bot: false, first_name: 'A' }, text, ...(text.startsWith('/') ? { entities: [{ type: 'bot_command' as const, offset: 0, length: text.split(' ')[0]!.length }] } : {}) },
    });
  return { say, sent, registered, memory };
}

describe('flows registered when needed', () => {
  it('an update with no flow under way and none entered registers nothing', async () => {
    const h = harness();
    await h.say('/menu');
    await h.say('just text');
    expect(h.sent).toEqual(['menu', 'no flow: just text']);
    expect(h.registered).toEqual([]);
    expect(h.memory.size).toBe(0);
  });

  it('entering a flow registers them first; the flow then gets the chat’s next update before any handler', async () => {
    const h = harness();
    await h.say('/name');
    expect(h.registered).toEqual(['name', 'city']);
    expect(h.sent).toEqual(['your name?']);
    h.registered.length = 0;
    // Under way: the registrations run as the plugin's model has them, and the flow answers.
    await h.say('Ann');
    expect(h.sent).toEqual(['your name?', 'hello Ann']);
    expect(h.registered[0]).toBe('name');
    // Done: the next update meets no flow and registers nothing.
    h.registered.length = 0;
    await h.say('/menu');
    expect(h.sent.at(-1)).toBe('menu');
    expect(h.registered).toEqual([]);
  });

  it('a flow other than the first is entered and resumed the same way', async () => {
    const h = harness();
    await h.say('/city');
    expect(h.sent).toEqual(['your city?']);
    await h.say('Riga');
    await h.say('after');
    expect(h.sent).toEqual(['your city?', 'no flow: after']);
  });
});
