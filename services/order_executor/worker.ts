/**
 * The leader's work loop: lease a batch from the head of the queue (waiting
 * at the queue for one when it is empty), execute it, ack it in one call,
 * for as long as this replica leads the epoch it was elected with. Every
 * dequeue and ack carries that epoch; the queue's fence refusing one means a
 * newer leader exists, and the replica steps down at once.
 *
 * @module
 */
import { delay } from "@bookstore/lib/async";
import { type AckResult, isFenced, type Lease, type orderQueueService } from "@bookstore/lib/contracts";
import type { Logger } from "@bookstore/lib/log";
import { type Client, isPeerFailure } from "@bookstore/lib/rpc";
import { meter } from "@bookstore/lib/telemetry";

const executedCounter = meter.createCounter("bookstore.executor.orders", { description: "Orders executed by outcome" });

/** The longest pause between dequeues while the queue is unreachable. */
export const MAX_BACKOFF_MS = 1000;

/** What the loop asks of the election. */
export interface Leadership {
  /** Whether this replica still leads `epoch`. */
  leads(epoch: number): boolean;
  /** Steps down because the fence named a newer epoch (only if it still leads `options.led`). */
  stepDown(reason: string, options: { led: number }): void;
  /** Hears whether a call to the queue reached it (a leader cut off from the queue steps down). */
  noteQueue?(reached: boolean): void;
}

/** Options for {@linkcode OrderWorker}. */
export interface OrderWorkerOptions {
  /** This replica's id. */
  id: number;
  /** The order queue. */
  queue: Client<typeof orderQueueService>;
  /** The election this replica takes part in. */
  leadership: Leadership;
  /** Logger. */
  log: Logger;
  /** How long an idle leader's dequeue waits at the queue for an order (a long poll). */
  pollIntervalMs: number;
  /** Most orders leased, executed and acked at a time. @default 1 */
  batchSize?: number;
  /** Simulated work per order before it is acked (a batch's orders are worked on side by side). */
  workMs: number;
}

/** Executes queued orders while its replica leads; counts what it did. */
export class OrderWorker {
  readonly #options: OrderWorkerOptions;
  #executed = 0;
  #fenced = 0;

  /** Prepares the worker; {@linkcode OrderWorker.work} runs it for one epoch. */
  constructor(options: OrderWorkerOptions) {
    this.#options = options;
  }

  /** Orders this replica executed (or failed for stock). */
  get executed(): number {
    return this.#executed;
  }

  /** Calls the fence refused. */
  get fenced(): number {
    return this.#fenced;
  }

  /** The leader's loop: lease a batch, execute it, ack it, repeat, for as long as it leads `epoch`. */
  async work(epoch: number): Promise<void> {
    const { id, queue, leadership, log, pollIntervalMs, workMs } = this.#options;
    log.info("work loop started", { epoch });
    let failures = 0;
    // One id per dequeue, kept until it is answered: a dequeue whose answer was
    // lost is asked again under the same id and answers the leases it took.
    let requestId = crypto.randomUUID();
    while (leadership.leads(epoch)) {
      let leases: Lease[];
      const asked = Date.now();
      try {
        ({ leases } = await queue.DequeueBatch({
          executorId: id,
          epoch,
          requestId,
          maxLeases: this.#options.batchSize ?? 1,
          waitMs: pollIntervalMs,
        }));
        requestId = crypto.randomUUID();
        leadership.noteQueue?.(true);
      } catch (error) {
        if (this.#fencedOff(error, { call: "dequeue", epoch })) break;
        failures += 1;
        if (isPeerFailure(error)) leadership.noteQueue?.(false);
        log.warn("dequeue failed", { epoch, failures, error });
        // Back off while the queue is unreachable instead of hammering it.
        await delay(Math.min(pollIntervalMs * 2 ** failures, MAX_BACKOFF_MS));
        continue;
      }
      failures = 0;
      if (leases.length === 0) {
        // The queue waited for an order before answering none: ask again at once (after the
        // rest of the wait, should it have answered early, so an idle leader never spins).
        const early = pollIntervalMs - (Date.now() - asked);
        if (early > 0) await delay(early);
        continue;
      }
      // Debug: "order executed" follows each at info (a line at info costs a checkout about 0.1 ms, bench/RESULTS.md).
      for (const lease of leases) log.debug("executing", { orderId: lease.orderId, epoch, attempt: lease.attempt });
      // Simulated work (packing, shipping label…). The fence, not this replica's
      // own view of its role, decides whether the result may be committed.
      if (workMs > 0) await delay(workMs);
      if (!await this.#ack(epoch, leases)) break;
    }
    log.info("work loop ended", { epoch });
  }

  // Whether the fence refused `refused.call`: if so, the term is over, so it counts the refusal, logs it and steps down.
  #fencedOff(error: unknown, refused: { call: "dequeue" | "ack"; orders?: number; epoch: number }): boolean {
    if (!isFenced(error)) return false;
    const { call, ...fields } = refused;
    this.#fenced += 1;
    this.#options.log.warn(`${call} refused by the fence`, { ...fields, reason: error.message });
    this.#options.leadership.stepDown(error.message, { led: refused.epoch });
    return true;
  }

  // Acks a batch and logs each order's outcome; false when the fence refused it (the term is over).
  async #ack(epoch: number, leases: Lease[]): Promise<boolean> {
    const { id, queue, leadership, log } = this.#options;
    let results: AckResult[];
    try {
      ({ results } = await queue.AckBatch({
        executorId: id,
        epoch,
        acks: leases.map(({ orderId, leaseId }) => ({ orderId, leaseId })),
      }));
      leadership.noteQueue?.(true);
    } catch (error) {
      if (this.#fencedOff(error, { call: "ack", orders: leases.length, epoch })) return false;
      if (isPeerFailure(error)) leadership.noteQueue?.(false);
      // The leases expire and the orders are handed out again; nothing is lost.
      log.warn("ack failed", { orders: leases.length, epoch, error });
      return true;
    }
    for (const result of results) {
      if (result.state === "executed" || result.state === "failed") {
        this.#executed += 1;
        executedCounter.add(1, { state: result.state });
        log.info(result.state === "executed" ? "order executed" : "order failed", {
          orderId: result.orderId,
          epoch,
          reason: result.reason,
        });
      } else {
        log.warn("lease lost before the ack", { orderId: result.orderId, epoch, reason: result.reason });
      }
    }
    return true;
  }
}
