/**
 * An order's status, live: `queued → executing → executed | failed`, which
 * executor replica executed it and in which epoch. Follows the order's
 * server-sent events; polls only when they are not available; stops, saying
 * so, when the shop no longer has the order (`utils/follow_order.ts`).
 *
 * @module
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { codedReasons, type OrderView } from "@bookstore/lib/contracts";
import { FINAL_STATUSES, followOrder, type FollowState } from "../utils/follow_order.ts";
import { shopperReason } from "../utils/reasons.ts";

/** Props of {@linkcode OrderStatus}. */
export interface OrderStatusProps {
  /** The order as the server rendered it. */
  initial: OrderView;
}

const STEPS = ["queued", "executing", "executed"] as const;
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
  const live = useSignal<FollowState>(FINAL_STATUSES.has(initial.status) ? "done" : "live");

  useEffect(() => {
    if (FINAL_STATUSES.has(initial.status)) return;
    return followOrder(initial.orderId, {
      onOrder: (next) => order.value = next,
      onState: (state) => live.value = state,
      EventSource: typeof EventSource === "function" ? EventSource : undefined,
    });
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
      {current.status === "failed" && <p class="error">{codedReasons(current).map(shopperReason).join(" ")}</p>}
      <p class="live-note">
        {live.value === "live"
          ? "Updating live."
          : live.value === "polling"
          ? "Updating every second."
          : live.value === "offline"
          ? "The shop is not answering; still trying."
          : live.value === "missing"
          ? "Order not found: the shop no longer has this order, so it stopped following it."
          : ""}
      </p>
    </section>
  );
}
