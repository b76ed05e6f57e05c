/** What every scenario file starts with: one world for the file, and fresh phone numbers. */
import { afterAll, beforeAll } from 'vitest';
import type { Platform } from '../../src/channels/outbound.js';
import { createWorld, type World } from './world.js';

/** Creates the world before the file's tests and closes it after; call the result inside tests. */
export function useWorld(options: { workers?: boolean } = {}): () => World {
  let world: World | undefined;
  beforeAll(async () => {
    world = await createWorld(options);
  });
  afterAll(async () => {
    await world?.close();
  });
  return () => world!;
}

/**
 * Valid Russian mobile numbers, unique per call: `+7<series><platform digit><6 digits>`.
 * Give each file its own three-digit series so files never share a customer.
 */
export function phoneNumbers(series: string): (platform: Platform) => string {
  let seq = 0;
  return (platform) => `+7${series}${platform === 'vk' ? '2' : '1'}${String(100_000 + ++seq).slice(-6)}`;
}
