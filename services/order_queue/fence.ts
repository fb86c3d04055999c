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
 * @module
 */
import type { DequeueBatchRequest } from "@bookstore/lib/contracts";
import { commitWithRetry, RETRY } from "@bookstore/lib/kv";
import { RpcError } from "@bookstore/lib/rpc";
import type { QueueContext } from "./context.ts";
import { counterKey, type Fence, FENCE_KEY } from "./keys.ts";

/** Who is calling on behalf of which epoch (and, for a dequeue, which request). */
export type Caller = Pick<DequeueBatchRequest, "executorId" | "epoch"> & { requestId?: string };

/** The fence: issues epochs and admits only the current epoch's holder. */
export class FenceKeeper {
  readonly #ctx: QueueContext;
  // When the fence's holder last called (in memory: after a restart, no holder is live).
  #holderSeen?: { epoch: number; at: number };

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

  /**
   * Issues a new epoch, higher than any before, to `executorId`; refused
   * (`failed_precondition`) while a higher live holder keeps the leader lease.
   */
  async acquireEpoch(executorId: number): Promise<number> {
    return await commitWithRetry(async () => {
      const fence = await this.read();
      this.#checkLeaderLease(fence.value, executorId);
      const epoch = (fence.value?.epoch ?? 0) + 1;
      const result = await this.#ctx.kv.atomic().check(fence).set(FENCE_KEY, { epoch, leaderId: executorId }).commit();
      if (!result.ok) return RETRY;
      this.#ctx.log.info("epoch issued", { epoch, executorId });
      return epoch;
    }, { what: "issuing an epoch" });
  }

  #checkLeaderLease(fence: Fence | null, executorId: number) {
    const seen = this.#holderSeen;
    if (!fence || this.#ctx.leaderLeaseMs <= 0 || !seen || seen.epoch !== fence.epoch) return;
    if (executorId >= fence.leaderId) return; // the holder itself, or a higher replica
    const quiet = this.#ctx.now() - seen.at;
    if (quiet > this.#ctx.leaderLeaseMs) return;
    throw new RpcError(
      "failed_precondition",
      `AcquireEpoch refused: executor ${fence.leaderId} leads epoch ${fence.epoch} and called ${quiet} ms ago`,
    );
  }

  /**
   * Reads the fence and refuses (`failed_precondition`, counted) a caller
   * that does not hold the current epoch; answers the entry read, for the
   * caller's commit to check.
   */
  async admit(caller: Caller, action: string): Promise<Deno.KvEntryMaybe<Fence>> {
    const fence = await this.read();
    const current = fence.value ?? { epoch: 0, leaderId: 0 };
    if (caller.epoch === current.epoch && caller.executorId === current.leaderId) {
      this.#holderSeen = { epoch: current.epoch, at: this.#ctx.now() };
      return fence;
    }
    await this.#ctx.kv.atomic().sum(counterKey("fenced"), 1n).commit();
    this.#ctx.log.warn("fenced", { action, executorId: caller.executorId, epoch: caller.epoch, current });
    const why = caller.epoch < current.epoch
      ? `epoch ${caller.epoch} is stale: epoch ${current.epoch} belongs to executor ${current.leaderId}`
      : `epoch ${caller.epoch} was not issued to executor ${caller.executorId}`;
    throw new RpcError("failed_precondition", `${action} refused: ${why}`);
  }
}
