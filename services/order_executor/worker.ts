/**
 * The leader's work loop: lease the head of the queue, execute it, ack it,
 * for as long as this replica leads the epoch it was elected with. Every
 * dequeue and ack carries that epoch; the queue's fence refusing one means a
 * newer leader exists, and the replica steps down at once.
 *
 * @module
 */
import { delay } from "@bookstore/lib/async";
import type { orderQueueService } from "@bookstore/lib/contracts";
import type { Logger } from "@bookstore/lib/log";
import { type Client, isFenced, isLeaseLost, isPeerFailure } from "@bookstore/lib/rpc";
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
  /** How often an idle leader polls the queue. */
  pollIntervalMs: number;
  /** Simulated work per order before it is acked. */
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

  /** The leader's loop: lease the head of the queue, execute it, repeat, for as long as it leads `epoch`. */
  async work(epoch: number): Promise<void> {
    const { id, queue, leadership, log, pollIntervalMs, workMs } = this.#options;
    log.info("work loop started", { epoch });
    let failures = 0;
    // One id per dequeue, kept until it is answered: a dequeue whose answer was
    // lost is asked again under the same id and answers the lease it took.
    let requestId = crypto.randomUUID();
    while (leadership.leads(epoch)) {
      let lease;
      try {
        lease = (await queue.Dequeue({ executorId: id, epoch, requestId })).lease;
        requestId = crypto.randomUUID();
        leadership.noteQueue?.(true);
      } catch (error) {
        if (isFenced(error)) {
          this.#fenced += 1;
          log.warn("dequeue refused by the fence", { epoch, reason: error.message });
          leadership.stepDown(error.message, { led: epoch });
          break;
        }
        failures += 1;
        if (isPeerFailure(error)) leadership.noteQueue?.(false);
        log.warn("dequeue failed", { epoch, failures, error });
        // Back off while the queue is unreachable instead of hammering it.
        await delay(Math.min(pollIntervalMs * 2 ** failures, MAX_BACKOFF_MS));
        continue;
      }
      failures = 0;
      if (!lease) {
        await delay(pollIntervalMs);
        continue;
      }
      log.info("executing", { orderId: lease.orderId, epoch, attempt: lease.attempt });
      // Simulated work (packing, shipping label…). The fence, not this replica's
      // own view of its role, decides whether the result may be committed.
      if (workMs > 0) await delay(workMs);
      try {
        const outcome = await queue.Ack({ orderId: lease.orderId, leaseId: lease.leaseId, executorId: id, epoch });
        leadership.noteQueue?.(true);
        this.#executed += 1;
        executedCounter.add(1, { state: outcome.state });
        log.info(outcome.state === "executed" ? "order executed" : "order failed", {
          orderId: lease.orderId,
          epoch,
          reason: outcome.reason,
        });
      } catch (error) {
        if (isFenced(error)) {
          this.#fenced += 1;
          log.warn("ack refused by the fence", { orderId: lease.orderId, epoch, reason: error.message });
          leadership.stepDown(error.message, { led: epoch });
          break;
        }
        if (isLeaseLost(error)) {
          log.warn("lease lost before the ack", { orderId: lease.orderId, epoch, reason: error.message });
          continue;
        }
        if (isPeerFailure(error)) leadership.noteQueue?.(false);
        // The lease expires and the order is handed out again; nothing is lost.
        log.warn("ack failed", { orderId: lease.orderId, epoch, error });
      }
    }
    log.info("work loop ended", { epoch });
  }
}
