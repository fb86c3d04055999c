/**
 * The cluster page's hosts (`deno task dev --hosts`): which host an executor
 * replica runs on — the host whose address its URL names — and so which
 * host "Cut the leader off" cuts.
 *
 * @module
 */
import type { HostView } from "@bookstore/lib/contracts";
import { leadershipOf } from "./cluster_watcher.ts";
import type { ShopCluster } from "./shop_api.ts";

/** The host whose address `url` names, if any. */
export function hostAt(hosts: readonly HostView[], url: string): HostView | undefined {
  const { hostname } = new URL(url);
  return hosts.find((host) => host.address === hostname);
}

/** The executor leader (the queue's fence says which, as the election timeline does) and its host. */
export function leaderHost(cluster: ShopCluster): { replica: number; host: HostView } | undefined {
  const leader = leadershipOf(cluster);
  const replica = leader && cluster.executors.find((executor) => executor.id === leader.leaderId);
  const host = replica && cluster.hosts && hostAt(cluster.hosts.hosts, replica.url);
  return host && { replica: replica.id, host };
}
