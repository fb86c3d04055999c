/**
 * Helpers for the executor replicas: their `/status`, and waiting for the
 * cluster to agree on one leader.
 *
 * @module
 */
import type { ExecutorStatus } from "@bookstore/lib/contracts";
import type { Cluster } from "./cluster.ts";
import { eventually } from "./wait.ts";

/** The replica ids of a cluster. */
export const REPLICAS = [1, 2, 3, 4];

/** A replica's `GET /status`, or undefined when it does not answer. */
export async function replicaStatus(cluster: Cluster, id: number): Promise<ExecutorStatus | undefined> {
  try {
    const response = await fetch(`${cluster.url(`order_executor_${id}`)}/status`, { signal: AbortSignal.timeout(500) });
    return response.ok ? await response.json() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Waits until every reachable replica (of `among`) agrees on one leader that
 * says it leads, with an epoch above `aboveEpoch`; answers that leader's status.
 */
export function stableLeader(
  cluster: Cluster,
  options: { among?: number[]; aboveEpoch?: number; leader?: number; timeoutMs?: number } = {},
): Promise<ExecutorStatus> {
  const among = options.among ?? REPLICAS;
  return eventually(async () => {
    const statuses = (await Promise.all(among.map((id) => replicaStatus(cluster, id)))).filter((s) => s !== undefined);
    const leaders = statuses.filter((s) => s.role === "leader");
    if (leaders.length !== 1) return undefined;
    const [leader] = leaders;
    if (options.leader !== undefined && leader.id !== options.leader) return undefined;
    if (leader.epoch <= (options.aboveEpoch ?? 0)) return undefined;
    const agreed = statuses.every((s) => s.leaderId === leader.id && s.epoch === leader.epoch);
    return agreed ? leader : undefined;
  }, { timeoutMs: options.timeoutMs ?? 20_000, message: "one agreed leader", intervalMs: 50 });
}
