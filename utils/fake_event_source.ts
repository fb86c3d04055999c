/**
 * An `EventSource` for in-memory tests of the browser's live updates: it
 * records every stream opened, and dispatches what the test says.
 *
 * @module
 */
import { EVENT_SOURCE_CLOSED, type EventSourceLike } from "./live_events.ts";

/** A stream the test drives; `FakeEventSource.opened` lists every one, oldest first. */
export class FakeEventSource implements EventSourceLike {
  /** Every stream opened since the test last emptied the list. */
  static opened: FakeEventSource[] = [];
  /** The listeners by event name. */
  readonly listeners = new Map<string, ((event: Event) => void)[]>();
  /** Whether the page closed it. */
  closed = false;
  /** As the browser's: the test sets `EVENT_SOURCE_CLOSED` to play a refused stream. */
  readyState = 0;

  /** Opens a stream of `url` (recorded in `opened`). */
  constructor(readonly url: string) {
    FakeEventSource.opened.push(this);
  }

  /** Adds a listener of a named event. */
  addEventListener(type: string, listener: (event: Event) => void): void {
    this.listeners.set(type, [...this.listeners.get(type) ?? [], listener]);
  }

  /** Closes it, as the page does. */
  close(): void {
    this.closed = true;
    this.readyState = EVENT_SOURCE_CLOSED;
  }

  /** Dispatches like a browser, `data` as JSON: nothing reaches the page once it is closed. */
  emit(type: string, data?: unknown): void {
    if (this.closed) return;
    const event = data === undefined ? new Event(type) : new MessageEvent(type, { data: JSON.stringify(data) });
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }
}
