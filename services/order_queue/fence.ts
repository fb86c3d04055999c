/**
 * Fencing and the leader lease.
 *
 * The queue issues epochs (`AcquireEpoch`) and keeps the newest with its
 * leader in `["fence"]`. Every dequeue and ack checks that entry inside the
 * same atomic commit as its writes, so a deposed leader's call can never take
 * or finish an order, even if it races the new leader's election.
 *
 * Leader lease: while the fence's holder keeps calling the queue (a dequeue or
 * ack admitted under its epoch) within `leaderLeaseMs`, a lower replica's
 * `AcquireEpoch` is refused, so a replica that merely cannot hear the
 * leader's heartbeats (a partition between replicas, not from the queue)
 * cannot take the fence from a leader that is working. A higher replica may
 * still take over (Bully's rule: the highest live id leads), and once the
 * holder falls silent anyone may.
 *
 * Both live in the store, never in a replica's memory: any queue replica may
 * admit the holder's calls and any may be asked for an epoch. The holder's
 * last call is `["holder"]`, written by the holder's own commits (one more
 * `set` in a commit it makes anyway), and only when the record is older than
 * a quarter of the lease: a working leader costs the store a few small writes
 * a second, not one per call. So the lease lasts from three quarters of
 * `leaderLeaseMs` to all of it after the holder's last call. Issuing an epoch
 * counts as its holder's first call: a lower replica's election that was
 * already under way cannot depose a leader whose first dequeue is still on
 * its way (on a loaded machine those elections deposed each new leader in
 * turn, and no order was executed for seconds).
 *
 * @module
 */
import type { DequeueBatchRequest } from "@bookstore/lib/contracts";
import { commitWithRetry, RETRY } from "@bookstore/lib/kv";
import { RpcError } from "@bookstore/lib/rpc";
import type { KvAtomic } from "@bookstore/lib/store";
import type { CommitCost } from "./budget.ts";
import type { QueueContext } from "./context.ts";
import { counterKey, type Fence, FENCE_KEY, type Holder, HOLDER_KEY } from "./keys.ts";

/** Who is calling on behalf of which epoch (and, for a dequeue, which request). */
export type Caller = Pick<DequeueBatchRequest, "executorId" | "epoch"> & { requestId?: string };

// The holder's record is rewritten once it is older than this fraction of the lease.
const REFRESH_FRACTION = 4;

/** A call admitted under the current epoch: what its commit must check, and the lease it refreshes. */
export class Admission {
  /** The fence as read when the call was admitted. */
  readonly fence: Deno.KvEntryMaybe<Fence>;
  readonly #refresh?: Holder;

  /** Admitted under `fence`; `refresh` is the holder record to write with the call's commit, when due. */
  constructor(fence: Deno.KvEntryMaybe<Fence>, refresh?: Holder) {
    this.fence = fence;
    this.#refresh = refresh;
  }

  /** Whether the holder's record is due: a call that commits nothing else should commit {@linkcode guard} alone. */
  get due(): boolean {
    return this.#refresh !== undefined;
  }

  /** What {@linkcode guard} adds to a commit. */
  get cost(): CommitCost {
    return { checks: 1, mutations: this.due ? 1 : 0 };
  }

  /** Checks the fence in `atomic` (it commits only if no epoch was issued since) and refreshes the lease when due. */
  guard(atomic: KvAtomic): KvAtomic {
    atomic.check(this.fence);
    if (this.#refresh) atomic.set(HOLDER_KEY, this.#refresh);
    return atomic;
  }
}

/** The fence: issues epochs and admits only the current epoch's holder. */
export class FenceKeeper {
  readonly #ctx: QueueContext;

  /** Keeps the fence in `ctx.kv`. */
  constructor(ctx: QueueContext) {
    this.#ctx = ctx;
  }

  /** The fence entry as it is now (its value `null` before the first epoch). */
  async read(): Promise<Deno.KvEntryMaybe<Fence>> {
    return await this.#ctx.kv.get<Fence>(FENCE_KEY);
  }

  /** The newest epoch and its holder (zeros before the first epoch). */
  async current(): Promise<Fence> {
    return (await this.read()).value ?? { epoch: 0, leaderId: 0 };
  }

  // The fence and its holder's last call, at one point in time.
  async #readLease(): Promise<[Deno.KvEntryMaybe<Fence>, Deno.KvEntryMaybe<Holder>]> {
    return await this.#ctx.kv.getMany<[Fence, Holder]>([FENCE_KEY, HOLDER_KEY]);
  }

  /**
   * Issues a new epoch, higher than any before, to `executorId`; refused
   * (`failed_precondition`) while a higher live holder keeps the leader lease.
   * Issues none once `options.signal` has aborted (the caller gave up: an
   * epoch it never hears of would only depose the leader).
   */
  async acquireEpoch(executorId: number, options: { signal?: AbortSignal } = {}): Promise<number> {
    return await commitWithRetry(async () => {
      const [fence, holder] = await this.#readLease();
      this.#checkLeaderLease(fence.value, { holder: holder.value, executorId });
      const epoch = (fence.value?.epoch ?? 0) + 1;
      options.signal?.throwIfAborted();
      // The holder's record is checked too: a call of the holder's that lands meanwhile renews the lease it was
      // judged by, and the retry judges again.
      const result = await this.#ctx.kv.atomic().check(fence).check(holder)
        .set(FENCE_KEY, { epoch, leaderId: executorId })
        .set(HOLDER_KEY, { epoch, at: this.#ctx.now() } satisfies Holder)
        .commit();
      if (!result.ok) return RETRY;
      this.#ctx.log.info("epoch issued", { epoch, executorId });
      return epoch;
    }, { what: "issuing an epoch" });
  }

  #checkLeaderLease(fence: Fence | null, options: { holder: Holder | null; executorId: number }) {
    const { holder, executorId } = options;
    if (!fence || this.#ctx.leaderLeaseMs <= 0 || !holder || holder.epoch !== fence.epoch) return;
    if (executorId >= fence.leaderId) return; // the holder itself, or a higher replica
    const quiet = this.#ctx.now() - holder.at;
    if (quiet > this.#ctx.leaderLeaseMs) return;
    throw new RpcError(
      "failed_precondition",
      `AcquireEpoch refused: executor ${fence.leaderId} leads epoch ${fence.epoch} and called ${quiet} ms ago`,
    );
  }

  /**
   * Reads the fence and refuses (`failed_precondition`, counted) a caller
   * that does not hold the current epoch; answers the admission, whose
   * `guard` the caller's commit must apply.
   */
  async admit(caller: Caller, action: string): Promise<Admission> {
    const [fence, holder] = await this.#readLease();
    const current = fence.value ?? { epoch: 0, leaderId: 0 };
    if (caller.epoch === current.epoch && caller.executorId === current.leaderId) {
      const now = this.#ctx.now();
      const lease = this.#ctx.leaderLeaseMs;
      const seen = holder.value;
      const due = lease > 0 && (seen?.epoch !== current.epoch || now - seen.at >= lease / REFRESH_FRACTION);
      return new Admission(fence, due ? { epoch: current.epoch, at: now } : undefined);
    }
    // The count is a statistic: a store that fails to take it must not turn the refusal into another error.
    await this.#ctx.kv.atomic().sum(counterKey("fenced"), 1n).commit().catch((error) =>
      this.#ctx.log.warn("could not count a fenced call", { error })
    );
    this.#ctx.log.warn("fenced", { action, executorId: caller.executorId, epoch: caller.epoch, current });
    const why = caller.epoch < current.epoch
      ? `epoch ${caller.epoch} is stale: epoch ${current.epoch} belongs to executor ${current.leaderId}`
      : `epoch ${caller.epoch} was not issued to executor ${caller.executorId}`;
    throw new RpcError("failed_precondition", `${action} refused: ${why}`);
  }
}
