import { createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 right now (for servers that must know their URL before listening). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Listens on a free loopback port; the server's base URL. */
export async function listenOnLoopback(server: { listen(port: number, host: string, cb: () => void): unknown; address(): unknown }): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}
