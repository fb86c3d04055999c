/**
 * The etcd members of a test cluster as the chaos scenarios see them: which
 * one leads in which Raft term, asked of every member that answers, and
 * waiting until they agree.
 *
 * @module
 */
import { type EtcdMemberStatus, etcdMemberStatus } from "@bookstore/lib/store/etcd/cluster";
import type { Cluster } from "./cluster.ts";
import { eventually } from "./wait.ts";

/** The member leading and its Raft term. */
export interface EtcdLeader {
  /** The member's process name (`etcd2`). */
  name: string;
  /** The Raft term it leads in. */
  term: number;
}

/** Each member's status by process name; absent for a member that does not answer (killed, paused, restarting). */
export async function etcdStatuses(cluster: Cluster): Promise<Map<string, EtcdMemberStatus>> {
  const answers = await Promise.all(cluster.etcdMembers.map(async (name) => {
    try {
      return [name, await etcdMemberStatus(cluster.url(name), { timeoutMs: 500 })] as const;
    } catch {
      return undefined;
    }
  }));
  return new Map(answers.filter((answer) => answer !== undefined));
}

/**
 * Waits until the members that answer — at least `options.answering` of
 * them (default a majority) — agree on one leader among them, in one term
 * above `options.aboveTerm`; answers it.
 */
export function etcdLeader(
  cluster: Cluster,
  options: { aboveTerm?: number; answering?: number; timeoutMs?: number } = {},
): Promise<EtcdLeader> {
  const answering = options.answering ?? Math.floor(cluster.etcdMembers.length / 2) + 1;
  return eventually(async () => {
    const statuses = await etcdStatuses(cluster);
    if (statuses.size < answering) return undefined;
    const leaders = [...statuses].filter(([, status]) => status.isLeader);
    if (leaders.length !== 1) return undefined;
    const [[name, leader]] = leaders;
    if (leader.raftTerm <= (options.aboveTerm ?? 0)) return undefined;
    const agreed = [...statuses.values()].every((s) =>
      s.leaderId === leader.memberId && s.raftTerm === leader.raftTerm
    );
    return agreed ? { name, term: leader.raftTerm } : undefined;
  }, {
    timeoutMs: options.timeoutMs ?? 20_000,
    intervalMs: 25,
    message: `${answering} etcd members agreeing on a leader in a term above ${options.aboveTerm ?? 0}`,
  });
}

/**
 * Hands the lead to member `name` (etcd's leadership transfer, asked of the
 * current leader) and waits until every member agrees it leads; answers it.
 */
export async function moveEtcdLeader(cluster: Cluster, name: string): Promise<EtcdLeader> {
  const leader = await etcdLeader(cluster, { answering: cluster.etcdMembers.length });
  if (leader.name === name) return leader;
  const target = (await etcdMemberStatus(cluster.url(name))).memberId;
  const response = await fetch(`${cluster.url(leader.name)}/v3/maintenance/transfer-leadership`, {
    method: "POST",
    body: JSON.stringify({ targetID: target }),
    signal: AbortSignal.timeout(5000),
  });
  if (!response.ok) throw new Error(`${leader.name} refused to hand the lead to ${name}: ${await response.text()}`);
  await response.body?.cancel();
  return await eventually(async () => {
    const now = await etcdLeader(cluster, { aboveTerm: leader.term, answering: cluster.etcdMembers.length });
    return now.name === name && now;
  }, { message: `${name} to lead`, timeoutMs: 10_000 });
}
