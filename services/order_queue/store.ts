/**
 * The order queue's state in its store, composed of its parts: the key
 * layout and priority (`keys.ts`), the fence and leader lease (`fence.ts`),
 * orders in and counts out (`orders.ts`), leasing and the long poll
 * (`leases.ts`, woken across replicas by `ready_watch.ts`), acks and
 * execution (`acks.ts`), the end of unacked leases (`reclaim.ts`) and dead
 * letters (`dead_letters.ts`). They share one clock.
 *
 * Stateless: every replica of the queue is one `OrderQueueStore` on the same
 * store, and any of them may answer any call.
 *
 * @module
 */
import type { Catalog } from "@bookstore/lib/catalog";
import type {
  AckResult,
  Lease,
  LeaseRef,
  OrderState,
  QueueItem,
  QueueStatus,
  StockLevel,
} from "@bookstore/lib/contracts";
import type { Logger } from "@bookstore/lib/log";
import type { Kv } from "@bookstore/lib/store";
import { Acks } from "./acks.ts";
import { type QueueContext, ReadySignal } from "./context.ts";
import { type DeadLetterPage, DeadLetters } from "./dead_letters.ts";
import { type Caller, FenceKeeper } from "./fence.ts";
import { type DequeueOptions, Leases } from "./leases.ts";
import { Orders } from "./orders.ts";
import { watchReady } from "./ready_watch.ts";
import { Reclaimer } from "./reclaim.ts";

export type { Caller } from "./fence.ts";

/** Options for {@linkcode OrderQueueStore}. */
export interface StoreOptions {
  /** How long a lease lasts. */
  leaseMs: number;
  /** Deliveries after which an order is dead-lettered. */
  maxAttempts: number;
  /** Waiting that counts as one more book (aging); 0 or absent: none. */
  agingMs?: number;
  /** Logger. */
  log: Logger;
  /** How long the fence's holder keeps it from lower replicas after its last call (0 or absent: no lease). */
  leaderLeaseMs?: number;
  /** The queue's one clock (default `Date.now`); tests pass a fake one. */
  now?: () => number;
  /** How long an executed or failed order is kept after it finished (absent: for ever). */
  retentionMs?: number;
}

/** The durable queue and stock store. */
export class OrderQueueStore {
  readonly #ctx: QueueContext;
  readonly #fence: FenceKeeper;
  readonly #orders: Orders;
  readonly #leases: Leases;
  readonly #acks: Acks;
  readonly #reclaimer: Reclaimer;
  readonly #deadLetters: DeadLetters;

  /** Wraps an open store. */
  constructor(kv: Kv, options: StoreOptions) {
    const ctx: QueueContext = {
      kv,
      now: options.now ?? Date.now,
      log: options.log,
      leaseMs: options.leaseMs,
      maxAttempts: options.maxAttempts,
      agingMs: options.agingMs ?? 0,
      leaderLeaseMs: options.leaderLeaseMs ?? 0,
      retentionMs: options.retentionMs,
      ready: new ReadySignal(),
    };
    this.#ctx = ctx;
    this.#fence = new FenceKeeper(ctx);
    this.#orders = new Orders(ctx, this.#fence);
    this.#reclaimer = new Reclaimer(ctx, this.#fence);
    this.#leases = new Leases(ctx, { fence: this.#fence, reclaim: () => this.#reclaimer.reclaim() });
    this.#acks = new Acks(ctx, this.#fence);
    this.#deadLetters = new DeadLetters(ctx);
  }

  /**
   * Wakes this replica's long polls whenever any replica makes an order
   * ready, until disposed of (see {@linkcode watchReady}); without it only
   * this replica's own commits wake them.
   */
  watchReady(): Disposable {
    return watchReady(this.#ctx.kv, { ready: this.#ctx.ready, log: this.#ctx.log });
  }

  /** Sets the initial stock of every catalog book that has none yet; existing stock is kept. */
  seedStock(catalog: Catalog): Promise<number> {
    return this.#orders.seedStock(catalog);
  }

  /** Queues an order; `false` when it is already known (queued, leased or done). */
  enqueue(orderId: string, items: QueueItem[]): Promise<boolean> {
    return this.#orders.enqueue(orderId, items);
  }

  /** Issues a new epoch to `executorId` (see {@linkcode FenceKeeper.acquireEpoch}). */
  acquireEpoch(executorId: number, options: { signal?: AbortSignal } = {}): Promise<number> {
    return this.#fence.acquireEpoch(executorId, options);
  }

  /** Leases up to `options.max` orders to the current leader (see {@linkcode Leases.dequeueBatch}). */
  dequeueBatch(caller: Caller, options: DequeueOptions): Promise<Lease[]> {
    return this.#leases.dequeueBatch(caller, options);
  }

  /** Executes leased orders in the order given (see {@linkcode Acks.ackBatch}). */
  ackBatch(caller: Pick<Caller, "executorId" | "epoch">, acks: readonly LeaseRef[]): Promise<AckResult[]> {
    return this.#acks.ackBatch(caller, acks);
  }

  /** Requeues expired and deposed leases (see {@linkcode Reclaimer.reclaim}). */
  reclaim(): Promise<number> {
    return this.#reclaimer.reclaim();
  }

  /** An order's state. */
  orderState(orderId: string): Promise<OrderState> {
    return this.#orders.orderState(orderId);
  }

  /** Depth, leases, dead letters, fence and counters. */
  status(): Promise<QueueStatus> {
    return this.#orders.status();
  }

  /** Current stock of every book. */
  stock(): Promise<StockLevel[]> {
    return this.#orders.stock();
  }

  /** One page of the dead-letter list (see {@linkcode DeadLetters.page}). */
  deadLetterPage(page: { pageSize?: number; pageToken?: string } = {}): Promise<DeadLetterPage> {
    return this.#deadLetters.page(page);
  }

  /** Moves a dead letter back into the queue with a fresh attempt count. */
  requeueDeadLetter(orderId: string): Promise<boolean> {
    return this.#deadLetters.requeue(orderId);
  }
}
