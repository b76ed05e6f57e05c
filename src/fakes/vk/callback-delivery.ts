import { createHttpPoster } from '../http-post.js';
import type { FakeVkCallbackEvent, FakeVkDeliveryAttempt, FakeVkDeliveryState } from './types.js';

interface Item {
  event: FakeVkCallbackEvent;
  retries: number;
  resolve: () => void;
}

interface PeerQueue {
  items: Item[];
  head: number;
  busy: boolean;
}

export interface DeliveryDeps {
  groupId: number;
  retryDelaysMs: readonly number[];
  timeoutMs: number;
  now: () => number;
  onAttempt: (attempt: FakeVkDeliveryAttempt) => void;
  /** Called after the queue's state changed (delivered, paused) so waiters can re-check. */
  onStateChange: () => void;
}

export interface DeliveryQueue {
  enqueue(peerKey: number, event: FakeVkCallbackEvent): Promise<void>;
  /** Sets (or clears) the confirmed endpoint and starts pumping. */
  setEndpoint(url: string | null): void;
  resume(): void;
  state(): FakeVkDeliveryState;
  /** Drops queued events (their `delivered` promises stay pending) and stops timers. */
  clear(): void;
}

/**
 * Callback API delivery for one community: one in-flight event per peer so a peer's events
 * arrive in order, peers in parallel. A failed event is retried (same event_id, header
 * X-Retry-Counter) after `retryDelaysMs[n]`; when the delays run out the whole community's
 * delivery pauses, as VK does after repeated errors, until `resume()`.
 */
export function createDeliveryQueue(deps: DeliveryDeps): DeliveryQueue {
  const queues = new Map<number, PeerQueue>();
  const timers = new Set<NodeJS.Timeout>();
  const controllers = new Set<AbortController>();
  // Keep-alive connections to the server's endpoint, as VK's own (one event per peer in flight).
  const poster = createHttpPoster(100);
  let url: string | null = null;
  let paused = false;
  let pending = 0;
  let delivered = 0;
  let generation = 0;

  async function attempt(item: Item): Promise<boolean> {
    const target = url;
    if (target === null) return false;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (item.retries > 0) headers['X-Retry-Counter'] = String(item.retries);
    const controller = new AbortController();
    controllers.add(controller);
    const record: FakeVkDeliveryAttempt = {
      groupId: deps.groupId,
      eventId: item.event.event_id,
      type: item.event.type,
      retry: item.retries,
      status: null,
      body: null,
      ok: false,
      at: deps.now(),
    };
    try {
      const res = await poster.post(target, JSON.stringify(item.event), { headers, timeoutMs: deps.timeoutMs, signal: controller.signal });
      record.status = res.status;
      record.body = res.text;
      record.ok = res.status === 200 && record.body === 'ok';
    } catch (error) {
      record.error = error instanceof Error ? error.message : String(error);
    } finally {
      controllers.delete(controller);
    }
    deps.onAttempt(record);
    return record.ok;
  }

  function later(fn: () => void, ms: number): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  }

  function pump(peerKey: number): void {
    const queue = queues.get(peerKey);
    if (!queue || queue.busy || paused || url === null) return;
    const item = queue.items[queue.head];
    if (!item) {
      queues.delete(peerKey);
      return;
    }
    queue.busy = true;
    const gen = generation;
    void attempt(item).then((ok) => {
      if (gen !== generation) return;
      if (ok) {
        queue.busy = false;
        queue.head += 1;
        if (queue.head > 256 && queue.head * 2 > queue.items.length) {
          queue.items = queue.items.slice(queue.head);
          queue.head = 0;
        }
        pending -= 1;
        delivered += 1;
        item.resolve();
        pump(peerKey);
        deps.onStateChange();
        return;
      }
      const delay = deps.retryDelaysMs[item.retries];
      item.retries += 1;
      if (delay === undefined) {
        queue.busy = false;
        paused = true;
        deps.onStateChange();
        return;
      }
      later(() => {
        if (gen !== generation) return;
        queue.busy = false;
        pump(peerKey);
      }, delay);
    });
  }

  function pumpAll(): void {
    for (const key of [...queues.keys()]) pump(key);
  }

  return {
    enqueue(peerKey, event) {
      return new Promise<void>((resolve) => {
        let queue = queues.get(peerKey);
        if (!queue) {
          queue = { items: [], head: 0, busy: false };
          queues.set(peerKey, queue);
        }
        queue.items.push({ event, retries: 0, resolve });
        pending += 1;
        pump(peerKey);
      });
    },
    setEndpoint(next) {
      url = next;
      pumpAll();
    },
    resume() {
      paused = false;
      pumpAll();
    },
    state() {
      return { callbackUrl: url, confirmed: url !== null, paused, pending, delivered };
    },
    clear() {
      generation += 1;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const controller of controllers) controller.abort();
      controllers.clear();
      poster.close();
      queues.clear();
      pending = 0;
      paused = false;
    },
  };
}
