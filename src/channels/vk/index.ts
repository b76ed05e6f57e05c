/**
 * The VK channel, assembled: the vk-io client, the bridge (method table), the grammY
 * transformer, the update converter, the OutboundSender for the send queues and the
 * Callback API plugin. The composition root builds one per community and hands the pieces
 * to the brain, the web server and the workers.
 */
import type { Update } from 'grammy/types';
import type { VK } from 'vk-io';
import type { Channel, ChannelCapabilities } from '../../bot/channel.js';
import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { PrismaClient } from '../../infra/prisma.js';
import type { Redis } from '../../infra/redis.js';
import type { OutboundSender } from '../outbound.js';
import { createVkEventHandler, vkCallbackPlugin, type VkCallbackDeps } from './callback-route.js';
import type { InboundQueue } from '../../bot/ordering/inbound-queue.js';
import { createVkBridge, type VkBridge } from './method-table.js';
import { createVkOutboundSender } from './outbound-sender.js';
import { createPayloadStore } from './payload-store.js';
import { createVkTransformer } from './transformer.js';
import { createUpdateConverter, type UpdateConverter } from './update-converter.js';
import { createVkUserNames } from './user-names.js';
import { applyTokenPacer, createVkApi, createVkTokenPacer } from './vk-api.js';

export { vkCallbackPlugin, createVkEventHandler, createVkBridge, createVkTransformer, createVkOutboundSender, createUpdateConverter, createVkApi };

export const VK_CAPABILITIES: ChannelCapabilities = {
  // A VK bot cannot receive a verified phone; login goes through a one-time code.
  requestContact: false,
  editMessages: true,
  inlineKeyboards: true,
  maxInlineButtons: 10,
  maxCallbackDataBytes: 255,
  // The "main menu → VK's persistent keyboard".
  menuKeyboard: true,
};

export const VK_CHANNEL: Channel = { platform: 'vk', capabilities: VK_CAPABILITIES };

export interface VkChannelDeps {
  groupId: number;
  token: string;
  apiBaseUrl: string;
  rateLimitPerSecond: number;
  callbackSecret: string;
  confirmationCode: string;
  redis: Redis;
  /** Kabinet's Redis prefix (config.redisKeyPrefix). */
  redisKeyPrefix: string;
  prisma: PrismaClient;
  clock: Clock;
  logger: Logger;
  /** Inject a prepared client (tests pass one with the fake's agent). */
  vk?: VK;
  download?: (url: string) => Promise<Buffer>;
}

export interface VkChannel {
  channel: Channel;
  vk: VK;
  bridge: VkBridge;
  converter: UpdateConverter;
  outboundSender: OutboundSender;
  transformer: ReturnType<typeof createVkTransformer>;
  /** The Fastify plugin and its options, for buildApp's plugin list. */
  callbackPlugin(handleUpdate: VkCallbackDeps['handleUpdate'], options?: { path?: string; inbound?: InboundQueue | undefined }): { plugin: typeof vkCallbackPlugin; options: VkCallbackDeps & Record<string, unknown> };
  /** Marks the VK identity blocked / unblocked (message_deny / message_allow). */
  setPermission(userId: number, allowed: boolean): Promise<void>;
}

export function createVkChannel(deps: VkChannelDeps): VkChannel {
  const prefix = `${deps.redisKeyPrefix}vk:${deps.groupId}:`;
  // One schedule per token across every process (web and worker spend it together); replies,
  // notifications, name look-ups and uploads at high priority, ahead of broadcasts.
  const pacer = createVkTokenPacer({ redis: deps.redis, redisKeyPrefix: deps.redisKeyPrefix, token: deps.token, rateLimitPerSecond: deps.rateLimitPerSecond });
  const vk = deps.vk ?? createVkApi({ token: deps.token, apiBaseUrl: deps.apiBaseUrl, rateLimitPerSecond: deps.rateLimitPerSecond });
  applyTokenPacer(vk, pacer, 'high');
  const store = createPayloadStore({ redis: deps.redis, prefix });
  const bridge = createVkBridge({ vk, groupId: deps.groupId, store, now: () => deps.clock.now(), ...(deps.download ? { download: deps.download } : {}) });

  // Cached, shared while in flight, batched: names cost few of the token's requests.
  const userInfo = createVkUserNames({ vk, redis: deps.redis, prefix });

  const converter = createUpdateConverter({ store, userInfo });

  async function setPermission(userId: number, allowed: boolean): Promise<void> {
    await deps.prisma.channelIdentity.updateMany({
      where: { platform: 'vk', externalId: String(userId) },
      data: { blockedAt: allowed ? null : deps.clock.now() },
    });
  }

  return {
    channel: VK_CHANNEL,
    vk,
    bridge,
    converter,
    outboundSender: createVkOutboundSender(bridge),
    transformer: createVkTransformer(bridge),
    setPermission,
    callbackPlugin(handleUpdate: (update: Update, chat: { peerId: number; userId: number }) => Promise<void>, options: { path?: string; inbound?: InboundQueue | undefined } = {}) {
      return {
        plugin: vkCallbackPlugin,
        options: {
          groupId: deps.groupId,
          secret: deps.callbackSecret,
          confirmationCode: deps.confirmationCode,
          redis: deps.redis,
          keyPrefix: prefix,
          converter,
          bridge,
          handleUpdate,
          setPermission,
          logger: deps.logger,
          ...(options.path ? { path: options.path } : {}),
          ...(options.inbound ? { inbound: options.inbound } : {}),
        },
      };
    },
  };
}
