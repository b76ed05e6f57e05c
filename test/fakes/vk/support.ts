import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import type { AddressInfo } from 'node:net';
import { VK } from 'vk-io';
import type { FakeVk } from '../../../src/fakes/vk/index.js';

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface Receiver {
  url: string;
  requests: ReceivedRequest[];
  /** Decides the answer (status, body) to each request; default "ok". */
  respond: (req: ReceivedRequest) => { status?: number; body: string } | Promise<{ status?: number; body: string }>;
  close(): Promise<void>;
}

/** A bare node:http Callback API endpoint that records what the fake POSTs. */
export async function startReceiver(confirmationCode: string): Promise<Receiver> {
  const receiver: Receiver = {
    url: '',
    requests: [],
    respond: () => ({ body: 'ok' }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      const received = { headers: req.headers, body };
      if (body.type === 'confirmation') {
        res.end(confirmationCode);
        return;
      }
      receiver.requests.push(received);
      void Promise.resolve(receiver.respond(received)).then(({ status = 200, body: text }) => {
        res.statusCode = status;
        res.end(text);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/vk`;
  return receiver;
}

/** The first page of an ogg/opus voice message (enough for VK, the bridge and the fake to tell), then some bytes. */
export const OGG_OPUS = Buffer.concat([Buffer.from('OggS\0\x02', 'latin1'), Buffer.alloc(22), Buffer.from('OpusHead\x01\x01', 'latin1'), Buffer.from('voice-frames')]);

/** A 1×1 PNG. */
export const PNG_1X1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

export function vkFor(
  fake: FakeVk,
  token: string,
  extra: Partial<{ apiMode: 'sequential' | 'parallel' | 'parallel_selected'; apiLimit: number; apiRetryLimit: number }> = {},
): VK {
  return new VK({ token, apiBaseUrl: fake.apiBaseUrl,
    // vk-io types `agent` as https.Agent, but node-fetch only needs an http(s).Agent matching the URL.
    agent: fake.agent as unknown as HttpsAgent, apiMode: 'sequential', apiLimit: 20, ...extra });
}

/** Raw form-encoded POST like vk-io's, for checks vk-io would hide (retries, envelopes). */
export async function rawCall(
  fake: FakeVk,
  method: string,
  params: Record<string, string | number>,
): Promise<{ response?: unknown; error?: { error_code: number; error_msg: string; request_params: { key: string; value: string }[] } }> {
  const res = await fetch(`${fake.apiBaseUrl}/${method}`, {
    method: 'POST',
    body: new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])),
  });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  return (await res.json()) as never;
}
