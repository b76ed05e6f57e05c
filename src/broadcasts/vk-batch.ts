/**
 * VK's bulk form of a broadcast send: up to 25 messages.send calls in one `execute`
 * request, each to up to 100 peers with one random_id. One execute is one request against
 * the community token's limit, so a VK broadcast reaches up to 2,500 people per request.
 */
import { APIError, type VK } from 'vk-io';
import { SendFailure } from '../channels/outbound.js';
import { toSendFailure } from '../channels/vk/errors.js';

/** VK's limit of API calls inside one execute. */
export const EXECUTE_MAX_CALLS = 25;

export interface VkSendCall {
  peerIds: number[];
  randomId: number;
  /** message, keyboard, attachment, ... */
  params: Record<string, string>;
}

/** Per peer: the conversation message id, or VK's error for that peer. */
export type VkPeerResult = { peerId: number; messageId: number } | { peerId: number; error: { code: number; message: string } };

/** Per call: its peers' results, or the error of the whole call. */
export type VkCallResult = { peers: VkPeerResult[] } | { error: { code: number; message: string } };

export interface VkBatchApi {
  /** Throws SendFailure when the whole request was refused (rate limit, network, token). */
  send(calls: VkSendCall[]): Promise<VkCallResult[]>;
  /** Uploads a picture once for the community; returns the attachment string (photo<owner>_<id>). */
  uploadPhoto(url: string): Promise<string>;
}

/** VKScript for vk-io's `execute` subset: `return [API.messages.send({...}),...];`. */
export function executeCode(calls: VkSendCall[]): string {
  const parts = calls.map((c) => `API.messages.send(${JSON.stringify({ ...c.params, peer_ids: c.peerIds.join(','), random_id: c.randomId })})`);
  return `return [${parts.join(',')}];`;
}

type PeerItem = { peer_id: number; message_id?: number; conversation_message_id?: number; error?: { code: number; description?: string; message?: string } };

/** The client's requests wait for slots of the token's shared pacer (createVkTokenPacer via createVkApi / applyTokenPacer, low priority). */
export function createVkBatchApi(deps: { vk: VK; download?: (url: string) => Promise<Buffer> }): VkBatchApi {
  const download = deps.download ?? (async (url: string) => {
    const res = await fetch(url, { signal: AbortSignal.timeout(20_000) });
    if (!res.ok) throw new SendFailure('permanent', `picture download failed: HTTP ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  });
  return {
    async send(calls) {
      if (calls.length === 0) return [];
      if (calls.length > EXECUTE_MAX_CALLS) throw new Error(`at most ${EXECUTE_MAX_CALLS} calls per execute`);
      let answer: { response: unknown; errors: Array<{ code: number | string; message: string }> };
      try {
        answer = (await deps.vk.api.call('execute', { code: executeCode(calls) })) as typeof answer;
      } catch (err) {
        throw toSendFailure(err, 'execute');
      }
      const responses = Array.isArray(answer.response) ? answer.response : [answer.response];
      // A failed call is `false` in the response; its error is the next one in execute_errors.
      const errors = [...(answer.errors ?? [])];
      return calls.map((call, i): VkCallResult => {
        const r = responses[i];
        if (r === false || r === undefined || r === null) {
          const e = errors.shift();
          return { error: { code: Number(e?.code ?? 10), message: e ? e.message.replace(/^Code №\d+ - /, '') : 'no answer for this call' } };
        }
        const items: PeerItem[] = Array.isArray(r) ? (r as PeerItem[]) : call.peerIds.map((peerId) => ({ peer_id: peerId, conversation_message_id: Number(r) }));
        return {
          peers: items.map((item) =>
            item.error
              ? { peerId: item.peer_id, error: { code: item.error.code, message: item.error.description ?? item.error.message ?? '' } }
              : { peerId: item.peer_id, messageId: item.conversation_message_id ?? item.message_id ?? 0 },
          ),
        };
      });
    },
    async uploadPhoto(url) {
      const value = await download(url);
      try {
        const photo = await deps.vk.upload.messagePhoto({ source: { value, filename: 'photo.jpg' } });
        return photo.toString();
      } catch (err) {
        if (err instanceof APIError) throw toSendFailure(err, 'photos.saveMessagesPhoto');
        throw new SendFailure('transient', err instanceof Error ? err.message : String(err));
      }
    },
  };
}
