/**
 * Server-sent events that stay open. The browser's `EventSource` reconnects
 * by itself after a dropped connection, but never after the server refused
 * the stream with an HTTP error — as the shop does past its cap on streams
 * (429 or 503, `web/sse.ts`). Then the stream is opened again after the
 * `Retry-After` the shop sends.
 *
 * @module
 */
import { STREAM_LIMITS } from "../web/sse.ts";

/** `EventSource.readyState` once the browser has given up on a stream and will not reconnect. */
export const EVENT_SOURCE_CLOSED = 2;

/** What of `EventSource` the following uses. */
export interface EventSourceLike {
  /** `EVENT_SOURCE_CLOSED` after the server refused the stream. */
  readonly readyState: number;
  /** Adds a listener of a named event (`open`, `error` and the stream's own). */
  addEventListener(type: string, listener: (event: Event) => void): void;
  /** Closes the connection; the browser does not reconnect. */
  close(): void;
}

/** Options for {@linkcode liveEvents}. */
export interface LiveEventsOptions {
  /** A listener per event name; `open` and `error` included. */
  on: Record<string, (event: Event) => void>;
  /** The browser's `EventSource` (a fake in tests). */
  EventSource: new (url: string) => EventSourceLike;
  /** How long after a refusal the stream is opened again (default the shop's `Retry-After`). */
  reopenMs?: number;
}

/**
 * Follows the server-sent events at `url` until the returned function is
 * called, opening the stream again after a refusal.
 *
 * @example
 * ```ts ignore
 * const close = liveEvents("/cluster/events", {
 *   EventSource,
 *   on: { cluster: (event) => console.log((event as MessageEvent).data) },
 * });
 * ```
 */
export function liveEvents(url: string, options: LiveEventsOptions): () => void {
  let source: EventSourceLike | undefined;
  let reopen: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  const open = () => {
    const current = new options.EventSource(url);
    source = current;
    for (const [type, listener] of Object.entries(options.on)) current.addEventListener(type, listener);
    current.addEventListener("error", () => {
      if (closed || current.readyState !== EVENT_SOURCE_CLOSED) return;
      reopen = setTimeout(open, options.reopenMs ?? STREAM_LIMITS.retryAfterSeconds * 1000);
    });
  };
  open();
  return () => {
    closed = true;
    clearTimeout(reopen);
    source?.close();
  };
}
