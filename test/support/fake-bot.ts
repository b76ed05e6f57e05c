import { createFakeTelegram, type FakeTelegram, type TgUser } from '../../src/fakes/telegram/index.js';

/**
 * The fake Telegram (limits off) on a loopback port with one bot and one person who has written
 * /start to it: what a test of the Bot API client needs. Close with `fake.close()`.
 */
export async function startFakeBot(token: string, username: string, firstName: string): Promise<{ fake: FakeTelegram; apiRoot: string; user: TgUser }> {
  const fake = createFakeTelegram({ rateLimits: false });
  const apiRoot = await fake.listen();
  fake.createBot({ token, username });
  const user = fake.createUser({ firstName });
  fake.sendText(token, user.id, '/start');
  return { fake, apiRoot, user };
}
