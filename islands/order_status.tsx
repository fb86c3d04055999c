/**
 * An order's status, live: `queued → executing → executed | failed`, which
 * executor replica executed it and in which epoch. Follows the order's
 * server-sent events; polls only when they are not available.
 *
 * @module
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { OrderView } from "@bookstore/lib/contracts";
import { shopperReason } from "../utils/reasons.ts";

/** Props of {@linkcode OrderStatus}. */
export interface OrderStatusProps {
  /** The order as the server rendered it. */
  initial: OrderView;
}

const STEPS = ["queued", "executing", "executed"] as const;
const FINAL = new Set(["executed", "failed", "rejected"]);
const LABELS: Record<OrderView["status"], string> = {
  rejected: "Rejected",
  queued: "Queued",
  executing: "Executing",
  executed: "Executed",
  failed: "Failed",
};

/** The live status. */
export default function OrderStatus({ initial }: OrderStatusProps) {
  const order = useSignal(initial);
  const live = useSignal<"live" | "polling" | "offline" | "done">(FINAL.has(initial.status) ? "done" : "live");

  useEffect(() => {
    if (FINAL.has(initial.status)) return;
    let poll: ReturnType<typeof setInterval> | undefined;
    const update = (next: OrderView) => {
      order.value = next;
      if (FINAL.has(next.status)) {
        live.value = "done";
        source?.close();
        clearInterval(poll);
      }
    };
    const startPolling = () => {
      live.value = "polling";
      poll = setInterval(async () => {
        try {
          const response = await fetch(`/api/orders/${encodeURIComponent(initial.orderId)}`);
          if (response.ok) update(await response.json());
        } catch {
          live.value = "offline";
        }
      }, 1000);
    };
    let source: EventSource | undefined;
    if (typeof EventSource === "function") {
      source = new EventSource(`/orders/${encodeURIComponent(initial.orderId)}/events`);
      source.addEventListener("order", (event) => update(JSON.parse((event as MessageEvent).data)));
      source.addEventListener("unavailable", () => live.value = "offline");
      let failures = 0;
      source.addEventListener("error", () => {
        if (live.value === "done") return;
        failures += 1;
        // The browser reconnects by itself; after repeated failures, poll instead.
        if (failures >= 3) {
          source?.close();
          startPolling();
        }
      });
      source.addEventListener("open", () => {
        if (live.value !== "done") live.value = "live";
      });
    } else {
      startPolling();
    }
    return () => {
      source?.close();
      clearInterval(poll);
    };
  }, []);

  const current = order.value;
  const reached = STEPS.indexOf(current.status as typeof STEPS[number]);
  return (
    <section class="status" aria-labelledby="status-title">
      <h2 id="status-title">
        Status:{" "}
        <span class={`badge status-${current.status}`} data-status={current.status}>
          {LABELS[current.status]}
        </span>
      </h2>
      {current.status !== "rejected" && (
        <ol class="steps">
          {STEPS.map((step, i) => (
            <li key={step} class={i <= reached || current.status === "failed" && i < 2 ? "done" : ""}>
              {LABELS[step]}
            </li>
          ))}
        </ol>
      )}
      <p aria-live="polite" class="execution">
        {current.executorId > 0
          ? `${current.status === "executing" ? "Being executed" : "Executed"} by replica ${current.executorId}` +
            ` in epoch ${current.epoch}` + (current.attempts > 1 ? ` (attempt ${current.attempts}).` : ".")
          : current.status === "rejected"
          ? "This order was not placed."
          : "Waiting for the leader to take it from the queue."}
      </p>
      {current.status === "failed" && <p class="error">{current.reasons.map(shopperReason).join(" ")}</p>}
      <p class="live-note">
        {live.value === "live"
          ? "Updating live."
          : live.value === "polling"
          ? "Updating every second."
          : live.value === "offline"
          ? "The shop is not answering; still trying."
          : ""}
      </p>
    </section>
  );
}
