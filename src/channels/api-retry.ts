/**
 * One retry policy for every Bot API call the customer bot makes, on both platforms and
 * inside conversations too:
 * - a refusal with `retry_after` (Telegram 429, VK 6/9/29 through the bridge) waits that
 *   long and tries again, unless it asks for more than `maxDelaySeconds` (a handler holds
 *   its chat's lock while it waits; a long wait fails the call instead);
 * - a 5xx answer or a network error waits an exponential backoff (capped) and tries again;
 * - at most `maxRetries` retries per call; anything else (4xx) is returned at once.
 *
 * Where it sits: below grammY's transformer stack, where the network is (`createRetryingFetch`
 * wraps the client's fetch, which bot.api and every conversation's own Api share), so a
 * conversation's replay records only the final answer and never waits again when replayed.
 * The VK transformer answers bot.api's calls without fetch; it runs the same policy
 * (`retryBotApiCall`) around the bridge. The send queues (notifications, broadcasts) do not
 * use it: their retries are the queue's (attempts, backoff, 429 → delayed job).
 */

export interface BotApiRetryPolicy {
  /** Retries after the first attempt. */
  maxRetries: number;
  /** The longest one wait may be (a larger retry_after is not waited for). */
  maxDelaySeconds: number;
  /** First backoff for 5xx and network errors; doubles per retry, capped by maxDelaySeconds. */
  backoffMs: number;
}

export const BOT_API_RETRY: BotApiRetryPolicy = { maxRetries: 3, maxDelaySeconds: 10, backoffMs: 500 };

/** The Bot API's answer envelope, as far as retrying needs it. */
interface Envelope {
  ok: boolean;
  error_code?: number;
  parameters?: { retry_after?: number };
}

export type RetrySleep = (ms: number, signal?: AbortSignal) => Promise<void>;

const sleep: RetrySleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('Request aborted while waiting to retry'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error('Request aborted while waiting to retry'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** How long to wait before retrying this outcome, or undefined to give it back as it is. */
function waitFor(policy: BotApiRetryPolicy, retry: number, outcome: { envelope?: Envelope | undefined; networkError?: boolean }): number | undefined {
  if (retry >= policy.maxRetries) return undefined;
  const backoff = Math.min(policy.maxDelaySeconds * 1000, policy.backoffMs * 2 ** retry);
  if (outcome.networkError) return backoff;
  const envelope = outcome.envelope;
  if (!envelope || envelope.ok) return undefined;
  const retryAfter = envelope.parameters?.retry_after;
  if (typeof retryAfter === 'number') return retryAfter <= policy.maxDelaySeconds ? Math.max(0, retryAfter) * 1000 : undefined;
  if ((envelope.error_code ?? 0) >= 500) return backoff;
  return undefined;
}

/**
 * Runs `attempt` under the policy. `attempt` returns the Bot API envelope ({ok, result} or
 * {ok: false, error_code, parameters}); a throw counts as a network error when
 * `isNetworkError` says so, else it is passed on at once.
 */
export async function retryBotApiCall<T extends Envelope>(
  attempt: () => Promise<T>,
  options: { policy?: BotApiRetryPolicy; signal?: AbortSignal | undefined; isNetworkError?: (err: unknown) => boolean; sleep?: RetrySleep } = {},
): Promise<T> {
  const policy = options.policy ?? BOT_API_RETRY;
  const pause = options.sleep ?? sleep;
  for (let retry = 0; ; retry++) {
    let envelope: T;
    try {
      envelope = await attempt();
    } catch (err) {
      const wait = options.isNetworkError?.(err) && !options.signal?.aborted ? waitFor(policy, retry, { networkError: true }) : undefined;
      if (wait === undefined) throw err;
      await pause(wait, options.signal);
      continue;
    }
    const wait = waitFor(policy, retry, { envelope });
    if (wait === undefined) return envelope;
    await pause(wait, options.signal);
  }
}

/**
 * A grammY client `fetch` that applies the policy to every JSON call: bot.api and each
 * conversation's Api use it. Bodies that cannot be sent twice (multipart uploads) go
 * through once.
 */
export function createRetryingFetch(inner: typeof fetch = fetch, options: { policy?: BotApiRetryPolicy; sleep?: RetrySleep } = {}): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    if (typeof init?.body !== 'string') return inner(input, init);
    let last: Response | undefined;
    const envelope = await retryBotApiCall(
      async () => {
        // A refused answer being retried is dropped unread; free its connection first.
        await last?.body?.cancel().catch(() => undefined);
        const res = await inner(input, init);
        last = res;
        if (res.ok) return { ok: true } as Envelope;
        const body = (await res.clone().json().catch(() => undefined)) as Envelope | undefined;
        return body && typeof body === 'object' ? { ...body, ok: false, error_code: body.error_code ?? res.status } : { ok: false, error_code: res.status };
      },
      // fetch's own network failures (undici: TypeError; node-fetch: FetchError); an abort
      // (grammY's timeout) and anything else are not retried.
      { ...options, signal: init.signal ?? undefined, isNetworkError: (err) => err instanceof TypeError || (err instanceof Error && err.name === 'FetchError') },
    );
    void envelope;
    return last!;
  }) as typeof fetch;
}
