/** A customer with linked messenger identities, and a fake Telegram user who started the bot. */
import type { FakeTelegram } from '../../src/fakes/telegram/index.js';
import type { PrismaClient } from '../../src/infra/prisma.js';
import { createCustomer } from '../support/factories.js';

export async function customerInTelegram(prisma: PrismaClient, fake: FakeTelegram, token: string, options: { language?: string; name?: string } = {}) {
  const user = fake.createUser({ firstName: options.name ?? 'Anna', languageCode: options.language ?? 'ru' });
  fake.sendText(token, user.id, '/start');
  const customer = await createCustomer(prisma, { language: options.language ?? 'ru' });
  const identity = await prisma.channelIdentity.create({
    data: { platform: 'telegram', externalId: String(user.id), chatId: String(user.id), customerId: customer.id, linkedAt: new Date() },
  });
  return { user, customer, identity };
}

export function sentTo(fake: FakeTelegram, token: string, chatId: number | string) {
  return fake.calls(token).filter((c) => c.method === 'sendMessage' && String(c.params.chat_id) === String(chatId) && c.status === 200);
}
