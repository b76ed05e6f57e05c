/** sequence(): middleware one after another, as Composer#use chains them, reaching only what an update reaches. */
import { Api, Composer, Context, type MiddlewareFn } from 'grammy';
import type { Update, UserFromGetMe } from 'grammy/types';
import { describe, expect, it } from 'vitest';
import { FlatComposer, sequence } from '../../src/bot/sequence.js';

const ctx = {} as Context;
const me = { id: 1, is_bot: true, first_name: 'Shop', username: 'shop_bot' } as UserFromGetMe;
const chat = { id: 5, type: 'private' as const, first_name: 'P' };
const from = { id: 5, is_bot: false, first_name: 'P' };

describe('sequence', () => {
  it('runs each middleware in order around the next, then the outer next; a Composer counts as one', async () => {
    const seen: string[] = [];
    const around = (name: string): MiddlewareFn<Context> => async (_ctx, next) => {
      seen.push(`${name} in`);
      await next();
      seen.push(`${name} out`);
    };
    const composer = new Composer<Context>();
    composer.use(around('c1'), around('c2'));
    await sequence([around('a'), composer, (_c, next) => next()])(ctx, async () => void seen.push('outer'));
    expect(seen).toEqual(['a in', 'c1 in', 'c2 in', 'outer', 'c2 out', 'c1 out', 'a out']);
  });

  it('stops where a middleware does not call next: the rest is never entered', async () => {
    const seen: string[] = [];
    const rest = Array.from({ length: 10 }, (_, i): MiddlewareFn<Context> => () => void seen.push(`rest ${i}`));
    await sequence([(_c, next) => (seen.push('first'), next()), () => void seen.push('handled'), ...rest])(ctx, async () => void seen.push('outer'));
    expect(seen).toEqual(['first', 'handled']);
  });

  it('passes errors out, thrown or rejected, and refuses a second call of next', async () => {
    await expect(sequence([(_c, next) => next(), () => { throw new Error('sync'); }])(ctx, async () => undefined)).rejects.toThrow('sync');
    await expect(sequence([async () => { throw new Error('async'); }])(ctx, async () => undefined)).rejects.toThrow('async');
    let outer = 0;
    const twice: MiddlewareFn<Context> = async (_c, next) => {
      await next();
      await next();
    };
    await expect(sequence([twice])(ctx, async () => void (outer += 1))).rejects.toThrow('`next` already called before!');
    expect(outer).toBe(1);
  });

  it('an empty sequence passes on', async () => {
    let outer = false;
    await sequence<Context>([])(ctx, async () => void (outer = true));
    expect(outer).toBe(true);
  });

  it('FlatComposer: a feature built on it takes the same updates, in the same order, as on a Composer', async () => {
    const build = (composer: Composer<Context>, seen: string[]) => {
      composer.command('start', async (c, next) => {
        seen.push(`start ${c.match}`);
        if (c.match === 'pass') await next();
      });
      composer.callbackQuery(/^orders:(\d+)$/, (c) => void seen.push(`orders ${c.match[1]}`));
      composer.on('message:contact', () => void seen.push('contact'));
      composer.hears('menu', (c, next) => (seen.push('hears menu'), next()));
      composer.filter((c) => c.message?.text === 'menu', () => void seen.push('filter menu'));
      composer.use((c, next) => (seen.push(`rest ${c.update.update_id}`), next()));
      return composer;
    };
    const updates: Update[] = [
      { update_id: 1, message: { message_id: 1, date: 0, chat, from, text: '/start pass', entities: [{ type: 'bot_command', offset: 0, length: 6 }] } },
      { update_id: 2, message: { message_id: 2, date: 0, chat, from, text: '/start x', entities: [{ type: 'bot_command', offset: 0, length: 6 }] } },
      { update_id: 3, callback_query: { id: 'q', chat_instance: 'i', from, data: 'orders:42', message: { message_id: 3, date: 0, chat } } } as Update,
      { update_id: 4, callback_query: { id: 'q', chat_instance: 'i', from, data: 'other', message: { message_id: 4, date: 0, chat } } } as Update,
      { update_id: 5, message: { message_id: 5, date: 0, chat, from, contact: { phone_number: '+1', first_name: 'P', user_id: 5 } } },
      { update_id: 6, message: { message_id: 6, date: 0, chat, from, text: 'menu' } },
      { update_id: 7, message: { message_id: 7, date: 0, chat, from, text: 'hello' } },
    ];
    const run = async (composer: Composer<Context>) => {
      const seen: string[] = [];
      const mw = build(composer, seen).middleware();
      for (const update of updates) {
        await mw(new Context(update, new Api('0:x'), me), async () => void seen.push(`out ${update.update_id}`));
      }
      return seen;
    };
    const flat = await run(new FlatComposer<Context>());
    expect(flat).toEqual(await run(new Composer<Context>()));
    expect(flat).toEqual(['start pass', 'rest 1', 'out 1', 'start x', 'orders 42', 'rest 4', 'out 4', 'contact', 'hears menu', 'filter menu', 'rest 7', 'out 7']);
  });
});
