/** The fakes' keep-alive POST client: answers, reused connections, timeouts, aborts, refusals. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpPoster } from '../../src/fakes/http-post.js';

let server: http.Server;
let origin: string;
const sockets = new Set<unknown>();
beforeAll(async () => {
  server = http.createServer((req, res) => {
    sockets.add(req.socket);
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      if (req.url === '/slow') return void setTimeout(() => res.end('late'), 500);
      if (req.url === '/teapot') return void res.writeHead(418, 'I am a teapot').end('no');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ got: JSON.parse(body), secret: req.headers['x-secret'], length: req.headers['content-length'] }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('fake http poster', () => {
  it('posts the body with its headers and reads the answer; consecutive posts reuse one connection', async () => {
    const poster = createHttpPoster(4);
    sockets.clear();
    const body = JSON.stringify({ text: 'привет' });
    for (let i = 0; i < 5; i++) {
      const answer = await poster.post(`${origin}/hook`, body, { headers: { 'content-type': 'application/json', 'x-secret': 's' }, timeoutMs: 1_000 });
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.text)).toEqual({ got: { text: 'привет' }, secret: 's', length: String(Buffer.byteLength(body)) });
    }
    expect(sockets.size).toBe(1);
    const teapot = await poster.post(`${origin}/teapot`, '{}', { headers: {}, timeoutMs: 1_000 });
    expect(teapot).toEqual({ status: 418, statusText: 'I am a teapot', text: 'no' });
    poster.close();
  });

  it('rejects with TimeoutError past its time, AbortError when aborted, and the socket error when nobody listens', async () => {
    const poster = createHttpPoster();
    await expect(poster.post(`${origin}/slow`, '{}', { headers: {}, timeoutMs: 50 })).rejects.toMatchObject({ name: 'TimeoutError' });
    const controller = new AbortController();
    const aborted = poster.post(`${origin}/slow`, '{}', { headers: {}, timeoutMs: 5_000, signal: controller.signal });
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    await expect(poster.post('http://127.0.0.1:1/none', '{}', { headers: {}, timeoutMs: 1_000 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(poster.post('ftp://127.0.0.1/x', '{}', { headers: {}, timeoutMs: 1_000 })).rejects.toMatchObject({ name: 'TypeError' });
    // Still usable after a timed-out request destroyed its socket.
    expect((await poster.post(`${origin}/hook`, '{"a":1}', { headers: {}, timeoutMs: 1_000 })).status).toBe(200);
    poster.close();
  });
});
