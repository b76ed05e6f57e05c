/**
 * What the sandbox page hears from the server: one hub, fed by the fakes (a chat changed),
 * the SMS inbox, the shop panel, the demo shop's webhook receiver and other sandbox plugins
 * (the staff and broadcast panels), and read by the page over server-sent events.
 *
 * An event is `{ type, data }`; the page dispatches on `type` (`api.on(type, handler)`).
 * Events carry what changed, not personal data beyond what the page already shows.
 */

export interface SandboxEvent {
  /** Dot-free short name the page subscribes to: "chat", "sms", "orders", "webhook", "reset", ... */
  type: string;
  data: unknown;
}

export type SandboxEventListener = (event: SandboxEvent) => void;

export interface SandboxEvents {
  /** Sends `{ type, data }` to every open page. Safe to call with no page open. */
  push(event: SandboxEvent): void;
  /** Returns the unsubscribe function. */
  subscribe(listener: SandboxEventListener): () => void;
  /** Open pages right now (for tests and the log). */
  listeners(): number;
}

const TYPE = /^[a-z][a-z0-9_.:-]{0,63}$/;

export function createSandboxEvents(): SandboxEvents {
  const listeners = new Set<SandboxEventListener>();
  return {
    push(event) {
      if (!TYPE.test(event.type)) throw new Error(`Sandbox event type must match ${TYPE}: ${JSON.stringify(event.type)}`);
      for (const listener of listeners) {
        try {
          listener(event);
        } catch {
          // One broken stream must not stop the others; the stream removes itself on close.
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    listeners: () => listeners.size,
  };
}

/** One server-sent event frame: `data:` lines of JSON (no newlines inside JSON.stringify output). */
export function sseFrame(event: SandboxEvent): string {
  return `data: ${JSON.stringify(event)}\n\n`;
}
