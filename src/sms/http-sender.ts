/**
 * A generic HTTP SMS provider adapter: POST {to, text, sender} as JSON with a bearer token.
 * Any 2xx is accepted; anything else (or no answer within the timeout) is an error.
 */
import type { SmsSender } from './index.js';

export interface HttpSmsSenderOptions {
  url: string;
  token: string | undefined;
  sender: string;
  timeoutMs?: number;
}

export class SmsProviderError extends Error {
  override name = 'SmsProviderError';
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

export function createHttpSmsSender(options: HttpSmsSenderOptions): SmsSender {
  return {
    kind: 'http',
    async send(message) {
      let res: Response;
      try {
        res = await fetch(options.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          },
          body: JSON.stringify({ to: message.to, text: message.text, sender: options.sender }),
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
      } catch (err) {
        throw new SmsProviderError(`SMS provider unreachable: ${err instanceof Error ? err.message : String(err)}`);
      }
      // Drain the body either way so the connection is reused; its content may echo the phone, so it is not logged.
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status >= 300) throw new SmsProviderError(`SMS provider answered HTTP ${res.status}`, res.status);
    },
  };
}
