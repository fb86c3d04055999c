/**
 * Read models of the public API: an order's view (its record joined with the
 * queue's execution state) and the catalog with current stock (the cluster's
 * is `cluster_reader.ts`).
 *
 * @module
 */
import type { Catalog } from "@bookstore/lib/catalog";
import {
  type Book,
  codedReasons,
  type orderQueueService,
  type OrderState,
  type OrderView,
  type ReasonCode,
  reasonsOf,
  rejection,
} from "@bookstore/lib/contracts";
import { type Client, hasCode, RpcError } from "@bookstore/lib/rpc";
import type { OrderRecords } from "./order_records.ts";

const STATUS_BY_QUEUE_STATE: Record<OrderState["state"], OrderView["status"]> = {
  queued: "queued",
  leased: "executing",
  executed: "executed",
  failed: "failed",
  dead: "failed",
};

// The queue's state says why execution ended: `failed` is its stock check refusing the order, `dead` its giving up.
const CODE_BY_QUEUE_FAILURE: Record<"failed" | "dead", ReasonCode> = {
  failed: "stock.out_of_stock",
  dead: "execution.gave_up",
};

/**
 * An order's view: `not_found` for unknown ids, for orders older than the
 * records are kept, and for approved orders the queue does not hold. An
 * approved order whose Enqueue went unanswered is looked up in the queue,
 * which may hold it.
 */
export async function orderView(
  orderId: string,
  deps: { orders: OrderRecords; queue: Client<typeof orderQueueService> },
): Promise<OrderView> {
  const record = await deps.orders.get(orderId);
  if (!record) {
    throw new RpcError(
      "not_found",
      `no order ${orderId}: never placed, or placed longer ago than orders are kept (ORDER_RETENTION_MS)`,
    );
  }
  const rejections = codedReasons(record);
  const view: OrderView = {
    orderId,
    status: "rejected",
    reasons: reasonsOf(rejections),
    rejections,
    items: record.items,
    events: record.events,
    suggestedBooks: record.suggestedBooks,
    createdAt: record.createdAt,
    executorId: 0,
    epoch: 0,
    attempts: 0,
    resolvedNames: record.resolvedNames,
  };
  if (!record.approved) return view;
  const state = await deps.queue.GetOrderState({ orderId }).catch((error) => {
    if (!hasCode(error, "not_found")) throw error;
    // A queued order leaves the queue only once it finished and its retention ran out (the queue's, counted from
    // when it finished, usually outlives this record's; a store that expires late can reverse them).
    throw new RpcError(
      "not_found",
      record.queued
        ? `order ${orderId} finished longer ago than orders are kept (ORDER_RETENTION_MS)`
        : `no order ${orderId}`,
    );
  });
  const failures = state.state === "failed" || state.state === "dead"
    ? [rejection(CODE_BY_QUEUE_FAILURE[state.state], state.reason)]
    : [];
  return {
    ...view,
    status: STATUS_BY_QUEUE_STATE[state.state],
    reasons: reasonsOf(failures),
    rejections: failures,
    executorId: state.executorId,
    epoch: state.epoch,
    attempts: state.attempts,
  };
}

/** Catalog books matching `query`, with the queue's current stock. */
export async function listBooks(
  query: string,
  deps: { catalog: Catalog; queue: Client<typeof orderQueueService> },
): Promise<Book[]> {
  const { stock } = await deps.queue.ListStock({});
  const levels = new Map(stock.map((level) => [level.bookId, level.stock]));
  return deps.catalog.search(query).map((book) => ({
    bookId: book.bookId,
    title: book.title,
    author: book.author,
    year: book.year,
    genres: book.genres,
    price: book.price,
    stock: levels.get(book.bookId) ?? book.stock,
  }));
}
