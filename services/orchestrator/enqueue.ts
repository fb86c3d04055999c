/**
 * Queueing an approved order, durably: the client hears "approved" only once
 * the queue has committed the order, and the order's record is written then,
 * with `queued: true`. An Enqueue that was sent but not answered may have
 * been committed: the queue is asked before anyone is told anything.
 *
 * @module
 */
import type { orderQueueService } from "@bookstore/lib/contracts";
import type { Logger } from "@bookstore/lib/log";
import { type Client, hasCode, RpcError, wasNotSent } from "@bookstore/lib/rpc";
import type { OrderRecord, OrderRecords } from "./order_records.ts";

/** Options for {@linkcode queueApproved}. */
export interface QueueApprovedOptions {
  /** The order queue. */
  queue: Client<typeof orderQueueService>;
  /** Where the order's record is written. */
  orders: OrderRecords;
  /** The orchestrator's logger. */
  log: Logger;
  /** The placement's signal: once it aborted, the order is not queued (a retry with the same key queues it). */
  signal: AbortSignal;
}

/**
 * Queues an approved order and then records it. Without a record (the queue
 * refused the order, or this process died first), a retry under the same key
 * validates the order again under the same id, which counts once. Throws
 * `unavailable` when the queue did not take the order, or could not say
 * whether it did (then the record is written as not known to be queued, and
 * `GET /orders/{id}` answers from the queue).
 */
export async function queueApproved(record: OrderRecord, options: QueueApprovedOptions): Promise<void> {
  const { queue, orders, log, signal } = options;
  if (signal.aborted) {
    throw new RpcError(
      "deadline_exceeded",
      "the request ended before the approved order was queued; retry with the same Idempotency-Key",
    );
  }
  const request = {
    orderId: record.orderId,
    items: record.items.map(({ bookId, quantity }) => ({ bookId, quantity })),
  };
  try {
    await queue.Enqueue(request);
  } catch (error) {
    if (!isAmbiguous(error)) {
      // The queue refused it, or it never went out (the circuit is open): nothing was queued.
      log.error("could not queue an approved order", { orderId: record.orderId, error });
      throw new RpcError(
        "unavailable",
        `the order queue did not take the order, so it was not placed (${
          (error as Error).message
        }); retry with the same Idempotency-Key`,
        { peer: "order_queue" },
      );
    }
    // Sent but unanswered: the queue may have committed it. Find out before answering.
    if (!await resolveEnqueue(queue, request)) {
      // Recorded as approved but not known to be queued: GET /orders/{id} then answers from the queue.
      await orders.put(record);
      log.error("could not learn whether an approved order was queued", { orderId: record.orderId, error });
      throw new RpcError(
        "unavailable",
        `the order queue did not confirm order ${record.orderId} (${
          (error as Error).message
        }): it may have been placed. Check GET /orders/${record.orderId}, or retry with the same Idempotency-Key; do not place it again without one`,
        { peer: "order_queue" },
      );
    }
  }
  await orders.put({ ...record, queued: true });
}

// After an ambiguous Enqueue: true once the queue is known to hold the order (it had it, or a repeated,
// idempotent Enqueue put it there), false while the queue cannot say.
async function resolveEnqueue(
  queue: Client<typeof orderQueueService>,
  request: { orderId: string; items: { bookId: string; quantity: number }[] },
): Promise<boolean> {
  try {
    await queue.GetOrderState({ orderId: request.orderId });
    return true;
  } catch (error) {
    if (!hasCode(error, "not_found")) return false;
  }
  try {
    // Not there (yet): queueing it now, under the same id, settles it either way.
    await queue.Enqueue(request);
    return true;
  } catch {
    return false;
  }
}

// After a request was sent, these codes leave its effect unknown.
function isAmbiguous(error: unknown): boolean {
  if (wasNotSent(error)) return false;
  return !(error instanceof RpcError) || ["unavailable", "deadline_exceeded", "canceled", "unknown", "internal"]
    .includes(error.code);
}
