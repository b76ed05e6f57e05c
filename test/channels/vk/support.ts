/** Shared set-up for VK channel tests: a fake VK, a community, a bridge over vk-io. */
import { randomBytes } from 'node:crypto';
import { Bot } from 'grammy';
import { Redis } from 'ioredis';
import type { VK } from 'vk-io';
import { createVkApi } from '../../../src/channels/vk/vk-api.js';
import { createVkBridge, type VkBridge } from '../../../src/channels/vk/method-table.js';
import { createPayloadStore, type PayloadStore } from '../../../src/channels/vk/payload-store.js';
import { createVkTransformer } from '../../../src/channels/vk/transformer.js';
import type { FakeVk } from '../../../src/fakes/vk/index.js';
import { TEST_REDIS_URL } from '../../support/env.js';

export const GROUP = 7001;
export const TOKEN = 'vk-group-token-7001';
export const SECRET = 'vk-callback-secret';
export const CONFIRMATION = 'c0nf1rm';

/** vk-io against the fake: its own agent (vk-io's default refuses http://), the production limiter settings. */
export function vkClient(fake: FakeVk, token = TOKEN): VK {
  return createVkApi({ token, apiBaseUrl: fake.apiBaseUrl, rateLimitPerSecond: 20, agent: fake.agent as never });
}

export interface BridgeHarness {
  redis: Redis;
  /** The store's Redis key prefix (this harness's own). */
  prefix: string;
  store: PayloadStore;
  vk: VK;
  bridge: VkBridge;
  bot: Bot;
  close(): Promise<void>;
}

export function bridgeHarness(fake: FakeVk): BridgeHarness {
  const redis = new Redis(TEST_REDIS_URL);
  const prefix = `kt-vk-${randomBytes(4).toString('hex')}:`;
  const store = createPayloadStore({ redis, prefix });
  const vk = vkClient(fake);
  const bridge = createVkBridge({ vk, groupId: GROUP, store });
  const bot = new Bot('vk-bridge', { botInfo: { id: GROUP, is_bot: true, first_name: 'Shop', username: `club${GROUP}`, can_join_groups: false, can_read_all_group_messages: false, supports_inline_queries: false, can_connect_to_business: false, has_main_web_app: false, has_topics_enabled: false } as never });
  bot.api.config.use(createVkTransformer(bridge));
  return {
    redis,
    prefix,
    store,
    vk,
    bridge,
    bot,
    async close() {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    },
  };
}
