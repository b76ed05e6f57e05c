import { createHttpPoster } from '../http-post.js';
import { conflict, ERRORS } from './errors.js';
import type { TgUpdate } from './types.js';

export interface WebhookRetryOptions {
  /** First retry delay; doubles per attempt. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Attempts per update before it is dropped, as Telegram gives up "after a reasonable amount of attempts". */
  maxAttempts: number;
  /** How long the fake waits for the webhook to answer. */
  timeoutMs: number;
}

export interface WebhookConfig {
  url: string;
  secretToken: string | undefined;
  maxConnections: number;
  allowedUpdates: string[] | undefined;
  ipAddress: string;
}

export interface DeliveryHooks {
  now(): number;
  /** The webhook answered with a JSON body that has "method": Telegram executes it. */
  onWebhookReply(body: Record<string, unknown>): void;
  onChange(): void;
}

interface Entry {
  update: TgUpdate;
  chatKey: string;
  attempts: number;
}

/** Updates of types Telegram sends only when listed in allowed_updates. */
const OPT_IN_TYPES = new Set(['chat_member', 'message_reaction', 'message_reaction_count']);

export const updateType = (update: TgUpdate): string => {
  for (const key in update) if (key !== 'update_id') return key;
  return 'unknown';
};

/**
 * One bot's update queue: long polling or webhook, never both (as Telegram).
 * Webhook mode keeps a FIFO per chat so a failing update holds back only that chat's later updates,
 * and at most max_connections requests are in flight.
 */
export class UpdateDelivery {
  private poll: Entry[] = [];
  private pollHead = 0;
  private waiter: { wake(): void; fail(error: Error): void } | undefined;

  private webhookConfig: WebhookConfig | undefined;
  private readonly chatQueues = new Map<string, Entry[]>();
  private ready: string[] = [];
  private readyHead = 0;
  private inFlight = 0;
  private webhookPending = 0;
  /** Bumped when queues are moved or dropped, so late results of old deliveries are ignored. */
  private generation = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private forcedFailures = 0;
  private closed = false;
  /** Keep-alive connections to the webhook, at most max_connections (100) in use. */
  private readonly http = createHttpPoster(100);

  allowedUpdates: string[] | undefined;
  lastErrorDate: number | undefined;
  lastErrorMessage: string | undefined;
  deliveredCount = 0;
  failedAttempts = 0;

  constructor(
    private readonly retry: WebhookRetryOptions,
    private readonly hooks: DeliveryHooks,
  ) {}

  get webhook(): WebhookConfig | undefined {
    return this.webhookConfig;
  }

  /** A getUpdates request is waiting for updates. */
  get isLongPolling(): boolean {
    return this.waiter !== undefined;
  }

  get pendingCount(): number {
    return this.poll.length - this.pollHead + this.webhookPending;
  }

  /** Queues an update unless allowed_updates filters it out. Returns whether it was queued. */
  enqueue(update: TgUpdate, chatKey: string): boolean {
    const type = updateType(update);
    const allowed = this.allowedUpdates;
    if (allowed !== undefined && allowed.length > 0 ? !allowed.includes(type) : OPT_IN_TYPES.has(type)) return false;
    const entry: Entry = { update, chatKey, attempts: 0 };
    if (this.webhookConfig !== undefined) {
      this.pushToChat(entry);
      this.pump();
    } else {
      this.poll.push(entry);
      if (this.waiter !== undefined) {
        const waiter = this.waiter;
        // Let updates produced in the same tick go out in one response.
        queueMicrotask(() => waiter.wake());
      }
    }
    this.hooks.onChange();
    return true;
  }

  /** getUpdates semantics: confirm by offset, return up to limit, long-poll up to timeout seconds. */
  getUpdates(offset: number, limit: number, timeoutSeconds: number, onAbort: (cb: () => void) => void): Promise<TgUpdate[]> {
    if (this.webhookConfig !== undefined) return Promise.reject(conflict(ERRORS.webhookActive));
    if (this.waiter !== undefined) return Promise.reject(conflict(ERRORS.otherGetUpdates));
    this.confirm(offset);
    if (this.pollHead < this.poll.length || timeoutSeconds <= 0 || this.closed) return Promise.resolve(this.take(limit));
    return new Promise<TgUpdate[]>((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.timers.delete(timer);
        if (this.waiter === waiter) this.waiter = undefined;
      };
      const waiter = {
        wake: () => {
          if (this.waiter !== waiter) return;
          finish();
          resolve(this.take(limit));
        },
        fail: (error: Error) => {
          finish();
          reject(error);
        },
      };
      const timer = setTimeout(() => waiter.wake(), timeoutSeconds * 1000);
      this.timers.add(timer);
      this.waiter = waiter;
      this.hooks.onChange();
      onAbort(() => {
        if (this.waiter !== waiter) return;
        finish();
        resolve([]);
      });
    });
  }

  setWebhook(config: WebhookConfig, dropPending: boolean): void {
    if (dropPending) this.dropAll();
    const wasPolling = this.webhookConfig === undefined;
    this.webhookConfig = config;
    this.allowedUpdates = config.allowedUpdates ?? this.allowedUpdates;
    this.waiter?.fail(conflict(ERRORS.webhookActive));
    if (wasPolling) {
      const entries = this.poll.slice(this.pollHead);
      this.poll = [];
      this.pollHead = 0;
      for (const entry of entries) this.pushToChat(entry);
    }
    this.lastErrorDate = undefined;
    this.lastErrorMessage = undefined;
    this.pump();
  }

  /** Returns false when there was no webhook. Undelivered updates go back to getUpdates. */
  deleteWebhook(dropPending: boolean): boolean {
    if (dropPending) this.dropAll();
    if (this.webhookConfig === undefined) return false;
    this.webhookConfig = undefined;
    this.generation += 1;
    this.clearTimers();
    const entries: Entry[] = [];
    for (const queue of this.chatQueues.values()) entries.push(...queue);
    entries.sort((a, b) => a.update.update_id - b.update.update_id);
    this.chatQueues.clear();
    this.ready = [];
    this.readyHead = 0;
    this.webhookPending = 0;
    for (const entry of entries) {
      entry.attempts = 0;
      this.poll.push(entry);
    }
    return true;
  }

  /** The next `times` deliveries fail as if the endpoint answered 500. */
  failWebhook(times: number): void {
    this.forcedFailures += times;
  }

  close(): void {
    this.closed = true;
    this.generation += 1;
    this.clearTimers();
    this.waiter?.wake();
    this.http.close();
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (this.waiter !== undefined) {
      // The long-poll timer was just cleared; answer the poller now.
      this.waiter.wake();
    }
  }

  private dropAll(): void {
    this.poll = [];
    this.pollHead = 0;
    this.chatQueues.clear();
    this.ready = [];
    this.readyHead = 0;
    this.webhookPending = 0;
    this.generation += 1;
  }

  private confirm(offset: number): void {
    if (offset > 0) {
      while (this.pollHead < this.poll.length && (this.poll[this.pollHead]?.update.update_id ?? Infinity) < offset) {
        this.pollHead += 1;
      }
    } else if (offset < 0) {
      this.pollHead = Math.max(this.pollHead, this.poll.length + offset);
    }
    if (this.pollHead > 1024 && this.pollHead * 2 > this.poll.length) {
      this.poll = this.poll.slice(this.pollHead);
      this.pollHead = 0;
    }
  }

  private take(limit: number): TgUpdate[] {
    const end = Math.min(this.poll.length, this.pollHead + limit);
    const updates: TgUpdate[] = [];
    for (let i = this.pollHead; i < end; i += 1) {
      const entry = this.poll[i];
      if (entry !== undefined) updates.push(entry.update);
    }
    return updates;
  }

  private pushToChat(entry: Entry): void {
    this.webhookPending += 1;
    const queue = this.chatQueues.get(entry.chatKey);
    if (queue !== undefined) {
      queue.push(entry);
      return;
    }
    this.chatQueues.set(entry.chatKey, [entry]);
    this.ready.push(entry.chatKey);
  }

  private pump(): void {
    const config = this.webhookConfig;
    if (config === undefined || this.closed) return;
    while (this.inFlight < config.maxConnections && this.readyHead < this.ready.length) {
      const chatKey = this.ready[this.readyHead] ?? '';
      this.readyHead += 1;
      const entry = this.chatQueues.get(chatKey)?.[0];
      if (entry === undefined) continue;
      this.inFlight += 1;
      void this.deliver(config, entry, this.generation);
    }
    if (this.readyHead > 1024 && this.readyHead * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.readyHead);
      this.readyHead = 0;
    }
  }

  private async deliver(config: WebhookConfig, entry: Entry, generation: number): Promise<void> {
    const error = await this.post(config, entry.update);
    this.inFlight -= 1;
    if (generation !== this.generation || this.closed) {
      this.pump();
      return;
    }
    const queue = this.chatQueues.get(entry.chatKey);
    if (error === undefined || entry.attempts + 1 >= this.retry.maxAttempts) {
      if (error !== undefined) this.recordError(error);
      else this.deliveredCount += 1;
      queue?.shift();
      this.webhookPending -= 1;
      if (queue !== undefined && queue.length > 0) this.ready.push(entry.chatKey);
      else this.chatQueues.delete(entry.chatKey);
      this.hooks.onChange();
      this.pump();
      return;
    }
    this.recordError(error);
    entry.attempts += 1;
    const delay = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (entry.attempts - 1));
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (generation !== this.generation) return;
      this.ready.push(entry.chatKey);
      this.pump();
    }, delay);
    this.timers.add(timer);
    this.hooks.onChange();
    this.pump();
  }

  private recordError(message: string): void {
    this.failedAttempts += 1;
    this.lastErrorDate = Math.floor(this.hooks.now() / 1000);
    this.lastErrorMessage = message;
  }

  /** Returns an error text in Telegram's wording, or undefined on success. */
  private async post(config: WebhookConfig, update: TgUpdate): Promise<string | undefined> {
    if (this.forcedFailures > 0) {
      this.forcedFailures -= 1;
      return 'Wrong response from the webhook: 500 Internal Server Error';
    }
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (config.secretToken !== undefined) headers['x-telegram-bot-api-secret-token'] = config.secretToken;
    try {
      const { status, statusText, text } = await this.http.post(config.url, JSON.stringify(update), { headers, timeoutMs: this.retry.timeoutMs });
      if (status < 200 || status >= 300) return `Wrong response from the webhook: ${status} ${statusText}`;
      if (text.length > 0 && text.includes('"method"')) {
        try {
          const body = JSON.parse(text) as unknown;
          if (typeof body === 'object' && body !== null && typeof (body as Record<string, unknown>)['method'] === 'string') {
            this.hooks.onWebhookReply(body as Record<string, unknown>);
          }
        } catch {
          // Telegram ignores a body it cannot use.
        }
      }
      return undefined;
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      if (name === 'TimeoutError' || name === 'AbortError') return 'Read timeout expired';
      return 'Connection refused';
    }
  }
}
