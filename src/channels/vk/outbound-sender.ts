/**
 * The VK OutboundSender for the send queues (notifications, broadcasts, operator replies):
 * executes the same Telegram-shaped call through the bridge's method table and classifies
 * VK's refusals (6/9 → rate_limited, 900/901/902 → blocked, 100/911/914 and the rest →
 * permanent, network and VK's internal errors → transient).
 */
import type { OutboundCall, OutboundSender, SendResult } from '../outbound.js';
import { toSendFailure } from './errors.js';
import type { VkBridge } from './method-table.js';

export function createVkOutboundSender(bridge: VkBridge): OutboundSender {
  return {
    platform: 'vk',
    async send(call: OutboundCall): Promise<SendResult> {
      try {
        const message = (await bridge.execute(call.method, call.payload)) as { message_id: number };
        return { messageId: String(message.message_id) };
      } catch (err) {
        throw toSendFailure(err, call.method);
      }
    },
  };
}
