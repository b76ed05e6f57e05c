/** The HTTP SMS provider adapter against a tiny local HTTP server. */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpSmsSender, SmsProviderError } from '../../src/sms/http-sender.js';

let server: Server;
let url: string;
const received: Array<{ headers: IncomingHttpHeaders; body: unknown }> = [];
let status = 200;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.statusCode = status;
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sms`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

describe('HTTP SMS sender', () => {
  it('posts {to, text, sender} as JSON with the bearer token', async () => {
    const sender = createHttpSmsSender({ url, token: 'sms-token', sender: 'Shop' });
    await sender.send({ to: '+79160000001', text: 'Код: 123456', code: '123456' });
    expect(received.at(-1)).toMatchObject({
      headers: { authorization: 'Bearer sms-token', 'content-type': 'application/json' },
      body: { to: '+79160000001', text: 'Код: 123456', sender: 'Shop' },
    });
    expect(Object.keys(received.at(-1)!.body as object).sort()).toEqual(['sender', 'text', 'to']);
  });

  it('treats a non-2xx answer and an unreachable provider as errors', async () => {
    status = 502;
    const sender = createHttpSmsSender({ url, token: undefined, sender: 'Shop' });
    await expect(sender.send({ to: '+79160000001', text: 't', code: '1' })).rejects.toMatchObject({ name: 'SmsProviderError', status: 502 });
    status = 200;
    const dead = createHttpSmsSender({ url: 'http://127.0.0.1:9/sms', token: undefined, sender: 'Shop', timeoutMs: 2000 });
    await expect(dead.send({ to: '+79160000001', text: 't', code: '1' })).rejects.toBeInstanceOf(SmsProviderError);
  });
});
