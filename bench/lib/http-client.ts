/**
 * JSON POSTs over keep-alive connections (node:http), for the bench's own load: cheaper per
 * request than the global fetch (undici), whose CPU in the bench process would otherwise be
 * counted in the latencies it measures (the bench process also runs the fakes).
 */
import http from 'node:http';

export interface Answer {
  status: number;
  body: string;
}

export function keepAliveClient(origin: string, sockets: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  return {
    /** `headers` gets the exact body sent (for signatures). */
    post(path: string, payload: unknown, headers: (body: string) => Record<string, string> = () => ({})): Promise<Answer> {
      const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
      return new Promise((resolve, reject) => {
        const req = http.request(
          `${origin}${path}`,
          { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers(body) } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}
