import { afterEach, expect } from 'vitest';
import { createFakeTelegram } from '../../../src/fakes/telegram/index.js';
import type { FakeTelegram, FakeTelegramOptions } from '../../../src/fakes/telegram/index.js';

const started: FakeTelegram[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((fake) => fake.close()));
});

/** A listening fake with one customer bot and one user who has opened the chat. */
export async function startFake(options: FakeTelegramOptions = {}) {
  const fake = createFakeTelegram(options);
  started.push(fake);
  const apiRoot = await fake.listen();
  const token = '7000001:AAtest-customer-bot';
  const botInfo = fake.createBot({ token, username: 'kabinet_test_bot', firstName: 'Kabinet' });
  const user = fake.createUser({ firstName: 'Anna', username: 'anna', languageCode: 'ru' });
  return { fake, apiRoot, token, botInfo, user };
}

/** A manual clock for rate limits and callback query expiry. */
export function manualClock(start = Date.UTC(2026, 0, 1)) {
  let current = start;
  return {
    now: () => current,
    advance(ms: number) {
      current += ms;
    },
  };
}

/** The error a call rejected with, checked to be of the client library's error class. */
export async function errorOf<E extends Error>(promise: Promise<unknown>, kind: abstract new (...args: never[]) => E): Promise<E> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(kind);
  return error as E;
}
