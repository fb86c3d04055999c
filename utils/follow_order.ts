/**
 * Following an order from the browser until it is finished: its server-sent
 * events (`/orders/{id}/events`), or, where those keep failing, polling
 * `/api/orders/{id}` every second. An order the shop no longer has ends the
 * following: the server says `missing` (or the poll gets 404), and asking
 * again would only get the same answer.
 *
 * @module
 */
import type { OrderView } from "@bookstore/lib/contracts";
import { EVENT_SOURCE_CLOSED, type EventSourceLike } from "./live_events.ts";

/** Statuses after which an order no longer changes. */
export const FINAL_STATUSES: ReadonlySet<OrderView["status"]> = new Set(["executed", "failed", "rejected"]);

/** How the following goes: `done` and `missing` are final, nothing is asked after them. */
export type FollowState = "live" | "polling" | "offline" | "done" | "missing";

/** Options for {@linkcode followOrder}. */
export interface FollowOrderOptions {
  /** Called with each new view of the order. */
  onOrder: (order: OrderView) => void;
  /** Called when the state of the following changes. */
  onState: (state: FollowState) => void;
  /** The browser's `EventSource`; without one, the order is polled. */
  EventSource?: new (url: string) => EventSourceLike;
  /** The `fetch` polls go through (default the global one). */
  fetch?: typeof fetch;
  /** Time between polls (default 1000 ms). */
  pollMs?: number;
}

/** Consecutive stream failures after which the order is polled instead. */
export const STREAM_FAILURES_BEFORE_POLLING = 3;

/** Follows order `orderId`; returns the function that stops following. */
export function followOrder(orderId: string, options: FollowOrderOptions): () => void {
  const id = encodeURIComponent(orderId);
  const source = options.EventSource ? new options.EventSource(`/orders/${id}/events`) : undefined;
  let poll: ReturnType<typeof setInterval> | undefined;
  let stopped = false;
  const stop = () => {
    stopped = true;
    source?.close();
    clearInterval(poll);
  };
  const finish = (state: "done" | "missing") => {
    if (stopped) return;
    stop();
    options.onState(state);
  };
  const update = (order: OrderView) => {
    if (stopped) return;
    options.onOrder(order);
    if (FINAL_STATUSES.has(order.status)) finish("done");
  };
  const startPolling = () => {
    options.onState("polling");
    poll = setInterval(async () => {
      try {
        const response = await (options.fetch ?? fetch)(`/api/orders/${id}`);
        if (response.status === 404) {
          await response.body?.cancel();
          finish("missing");
        } else if (response.ok) {
          update(await response.json());
        } else {
          await response.body?.cancel();
        }
      } catch {
        if (!stopped) options.onState("offline");
      }
    }, options.pollMs ?? 1000);
  };
  if (!source) {
    startPolling();
    return stop;
  }
  source.addEventListener("order", (event) => update(JSON.parse((event as MessageEvent).data)));
  source.addEventListener("missing", () => finish("missing"));
  source.addEventListener("unavailable", () => {
    if (!stopped) options.onState("offline");
  });
  let failures = 0;
  source.addEventListener("error", () => {
    if (stopped) return;
    failures += 1;
    // The browser reconnects by itself, except after a refusal (the shop's cap on streams): then poll at once. After
    // repeated failures, poll instead as well.
    if (source.readyState === EVENT_SOURCE_CLOSED || failures >= STREAM_FAILURES_BEFORE_POLLING) {
      source.close();
      startPolling();
    }
  });
  source.addEventListener("open", () => {
    if (!stopped) options.onState("live");
  });
  return stop;
}
