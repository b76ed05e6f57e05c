/**
 * One keep-alive HTTP/1.1 connection written and read by hand, for a driver that times a
 * server's answers from a process that is busy with other work (the VK flood's bench process
 * also runs the fake VK). node:http's client costs the sender several hundred µs of CPU and a
 * few KB of garbage per request (a ClientRequest, an IncomingMessage, their streams and
 * listeners); at 30 requests in flight and a thousand a second, that queueing in the driver was
 * timed as the server's. Here a request is one socket write and an answer one header scan.
 *
 * Deliberately small: one request in flight at a time (the caller awaits each answer before the
 * next, as VK does per peer), answers framed by Content-Length (what Fastify sends for a string
 * or JSON body); anything else (chunked, no length) rejects rather than guesses. The connection
 * is opened by `open()` or the first request, and again after the server closes it.
 */
import { connect, type Socket } from 'node:net';

export interface RawAnswer {
  status: number;
  body: string;
}

export interface RawConnection {
  /** Opens the connection now (post opens it when none is open). */
  open(): Promise<void>;
  post(path: string, body: string, headers?: Record<string, string>): Promise<RawAnswer>;
  close(): void;
}

const HEAD_END = Buffer.from('\r\n\r\n');

export function rawConnection(origin: string): RawConnection {
  const url = new URL(origin);
  if (url.protocol !== 'http:') throw new Error(`rawConnection speaks plain HTTP only, not ${url.protocol}`);
  const port = Number(url.port || 80);
  let socket: Socket | undefined;
  let connecting: Promise<Socket> | undefined;
  let buffer: Buffer = Buffer.alloc(0);
  let waiting: { resolve(answer: RawAnswer): void; reject(err: Error): void } | undefined;

  const fail = (err: Error) => {
    const w = waiting;
    waiting = undefined;
    w?.reject(err);
  };

  function parse(): void {
    if (!waiting) return;
    const end = buffer.indexOf(HEAD_END);
    if (end < 0) return;
    const head = buffer.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
    if (!length || !(status >= 100)) {
      socket?.destroy();
      return fail(new Error(`rawConnection: an answer it cannot frame (${head.split('\r\n')[0]}; no Content-Length)`));
    }
    const bodyStart = end + HEAD_END.length;
    const bodyEnd = bodyStart + Number(length[1]);
    if (buffer.length < bodyEnd) return;
    const answer = { status, body: buffer.toString('utf8', bodyStart, bodyEnd) };
    buffer = buffer.subarray(bodyEnd);
    if (/\r\nconnection:[ \t]*close/i.test(head)) socket?.end();
    const w = waiting;
    waiting = undefined;
    w.resolve(answer);
  }

  function openSocket(): Promise<Socket> {
    connecting ??= new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: url.hostname, port, noDelay: true });
      s.once('connect', () => {
        socket = s;
        connecting = undefined;
        resolve(s);
      });
      s.on('data', (chunk: Buffer) => {
        buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
        parse();
      });
      s.on('error', (err) => {
        if (connecting) {
          connecting = undefined;
          reject(err);
        }
        fail(err);
      });
      s.on('close', () => {
        if (socket === s) socket = undefined;
        buffer = Buffer.alloc(0);
        fail(new Error('rawConnection: the server closed the connection before answering'));
      });
    });
    return connecting;
  }

  return {
    async open() {
      if (!socket) await openSocket();
    },
    async post(path, body, headers = {}) {
      if (waiting) throw new Error('rawConnection: one request at a time');
      const s = socket ?? (await openSocket());
      let head = `POST ${path} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`;
      for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
      return new Promise<RawAnswer>((resolve, reject) => {
        waiting = { resolve, reject };
        s.write(`${head}\r\n${body}`);
      });
    },
    close() {
      socket?.destroy();
      socket = undefined;
    },
  };
}
