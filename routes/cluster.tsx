/**
 * The cluster: every executor replica with its role, epoch and heartbeat,
 * the leader highlighted, the queue's depth, leases and dead letters and its
 * replicas, the store (with etcd, its members and their leader), and the
 * recent elections, all live. With fault injection enabled (dev and test
 * only) it has buttons to crash or pause a replica, to crash a queue replica
 * or an etcd member, and to slow or fail a validator, so a person can watch
 * an election and fencing happen.
 *
 * @module
 */
import ClusterPanel from "../islands/cluster_panel.tsx";
import type { State } from "../utils/state.ts";
import type { ClusterSnapshot } from "../utils/cluster_watcher.ts";
import { type Handlers, page, type PageProps } from "../web/fresh.ts";
import { Head } from "../web/head.ts";

/** Reads the cluster once for the first render. */
export const handler: Handlers<ClusterSnapshot, State> = {
  async GET(ctx) {
    return page(await ctx.state.cluster.snapshot());
  },
};

/** The cluster page. */
export default function ClusterRoute({ data, state }: PageProps<ClusterSnapshot, State>) {
  return (
    <>
      <Head>
        <meta
          key="description"
          name="description"
          content="The Bookstore's order executors, live: which replica leads and in which epoch, every heartbeat, the queue's depth, and each election."
        />
      </Head>
      <h1>Cluster</h1>
      <p class="lede">
        Four executor replicas elect a leader with the Bully algorithm; only the leader takes orders from the queue, and
        every take and ack carries its epoch, so a deposed leader is fenced off. Every queue replica serves the same
        queue, kept in the store; with etcd, the store is a replicated cluster of its own.
      </p>
      <ClusterPanel initial={data} faults={state.faults} crashesEtcd={state.crashesEtcd} />
    </>
  );
}
