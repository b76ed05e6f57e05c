/**
 * The VK OutboundSender for the send queues (notifications, broadcasts, operator replies):
 * executes the same Telegram-shaped call through the bridge's method table and classifies
 * VK's refusals (6/9 → rate_limited, 900/901/902 → blocked, 100/911/914 and the rest →
 * permanent, network and VK's internal errors → transient).
 *
 * Idempotent: messages.send's random_id is derived from the call's idempotencyKey (the
 * notification id), so a resend after a crash mid-send is dropped by VK itself.
 */
import type { OutboundCall, OutboundSender, SendResult } from '../outbound.js';
import { toSendFailure } from './errors.js';
import type { VkBridge } from './method-table.js';

export function createVkOutboundSender(bridge: VkBridge, options: { requestTimeoutMs?: number } = {}): OutboundSender {
  return {
    platform: 'vk',
    idempotent: true,
    requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    async send(call: OutboundCall): Promise<SendResult> {
      try {
        const message = (await bridge.execute(call.method, call.payload, call.idempotencyKey !== undefined ? { idempotencyKey: call.idempotencyKey } : {})) as { message_id: number };
        return { messageId: String(message.message_id) };
      } catch (err) {
        throw toSendFailure(err, call.method);
      }
    },
  };
}
