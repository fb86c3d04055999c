/**
 * The cluster, live: replicas with role, epoch, heartbeat age and
 * reachability (the leader highlighted), the queue's counts and its
 * replicas, the store (with etcd, its members: who leads, in which Raft
 * term) and the recent elections, from the web app's server-sent events.
 * With fault injection enabled, buttons crash or pause a replica, crash a
 * queue replica or an etcd member, and slow or fail a validator; they call
 * the web app's admin endpoints, never a service directly. With `deno task
 * dev --hosts`, it shows each process's host and cut links, and (faults on)
 * cuts the executor leader off from the other executors and heals it.
 *
 * @module
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { VALIDATORS } from "@bookstore/lib/contracts";
import type { ClusterSnapshot } from "../utils/cluster_watcher.ts";
import { liveEvents } from "../utils/live_events.ts";
import { EtcdMembers } from "../components/etcd_members.tsx";
import { HostsTable } from "../components/hosts_table.tsx";
import { leaderHost } from "../utils/hosts.ts";
import { QueueReplicas } from "../components/queue_replicas.tsx";
import { Table } from "../components/table.tsx";
import type { ClusterView, ReplicaView } from "@bookstore/lib/contracts";

/** Props of {@linkcode ClusterPanel}. */
export interface ClusterPanelProps {
  /** The cluster as the server read it. */
  initial: ClusterSnapshot;
  /** Whether to show the fault buttons. */
  faults: boolean;
  /** Whether the etcd members have Crash buttons (faults on, and a supervisor that runs them). */
  crashesEtcd: boolean;
}

const PAUSE_SECONDS = 3;

/** A replica that answered. */
type ReachableReplica = Extract<ReplicaView, { reachable: true }>;

/** What the fault buttons of a replica do: the admin action, its body, and what the panel says once it is sent. */
const REPLICA_FAULTS = [
  { action: "crash", label: "Crash", body: {}, done: (id: number) => `Replica ${id} crashed. Watch the election.` },
  {
    action: "pause",
    label: `Pause ${PAUSE_SECONDS} s`,
    body: { seconds: PAUSE_SECONDS },
    done: (id: number) => `Replica ${id} is frozen for ${PAUSE_SECONDS} s; when it wakes, the fence refuses it.`,
  },
] as const;

/** The queue's counts the panel shows, in order, with their labels. */
const QUEUE_COUNTS = [
  ["depth", "Waiting"],
  ["leased", "Leased"],
  ["deadLetters", "Dead letters"],
  ["executed", "Executed"],
  ["fenced", "Fenced calls"],
] as const;

function heartbeat(replica: ReplicaView): string {
  if (!replica.reachable) return "—";
  if (replica.role === "leader") return "sending";
  const age = replica.lastHeartbeatMs ?? -1;
  return age < 0 ? "none yet" : `${Math.round(age)} ms ago`;
}

function time(iso: string): string {
  // HH:MM:SS.s in UTC, the same on the server and in the browser.
  return iso.slice(11, 21) + " UTC";
}

/** The live cluster view. */
export default function ClusterPanel({ initial, faults, crashesEtcd }: ClusterPanelProps) {
  const snapshot = useSignal(initial);
  const connection = useSignal<"live" | "reconnecting">("live");
  const notice = useSignal("");

  useEffect(() =>
    liveEvents("/cluster/events", {
      EventSource,
      on: {
        cluster: (event) => {
          snapshot.value = JSON.parse((event as MessageEvent).data);
          connection.value = "live";
        },
        error: () => connection.value = "reconnecting",
      },
    }), []);

  const act = async (path: string, body: unknown, done: string) => {
    notice.value = "Sending…";
    try {
      const response = await fetch(path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      notice.value = response.ok ? done : `That did not work (HTTP ${response.status}).`;
    } catch {
      notice.value = "The web app did not answer.";
    }
  };

  const { cluster, elections } = snapshot.value;
  if ("error" in cluster) {
    return (
      <p class="error" role="alert">
        The cluster cannot be read right now ({cluster.error}). Retrying…
      </p>
    );
  }
  const leader = cluster.executors.find((r): r is ReachableReplica => r.reachable && r.role === "leader");
  const { queue } = cluster;
  return (
    <div class="cluster">
      <p class="live-note" aria-live="polite">
        {connection.value === "live" ? "Updating live." : "Reconnecting…"} Leader:{" "}
        <strong data-leader={leader?.id ?? ""}>{leader ? `replica ${leader.id}` : "none"}</strong>
        {leader && (
          <>
            , epoch <strong data-epoch={leader.epoch}>{leader.epoch}</strong>
          </>
        )}
      </p>
      <Table
        class="replicas"
        caption="Executor replicas"
        columns={["Replica", "Role", "Epoch", "Heartbeat", "Reachable", "Executed", faults && "Faults"]}
      >
        {cluster.executors.map((replica) => (
          <tr
            key={replica.id}
            data-replica={replica.id}
            data-role={replica.reachable ? replica.role : "down"}
            class={replica.reachable && replica.role === "leader" ? "leader" : replica.reachable ? "" : "down"}
          >
            <th scope="row">{replica.id}</th>
            <td>{replica.reachable ? replica.role : "down"}</td>
            <td>{replica.reachable ? replica.epoch : "—"}</td>
            <td>{heartbeat(replica)}</td>
            <td>{replica.reachable ? "yes" : "no"}</td>
            <td>{replica.reachable ? replica.executed : "—"}</td>
            {faults && (
              <td class="actions">
                {REPLICA_FAULTS.map((fault) => (
                  <button
                    key={fault.action}
                    type="button"
                    disabled={!replica.reachable}
                    onClick={() =>
                      act(`/admin/replicas/${replica.id}/${fault.action}`, fault.body, fault.done(replica.id))}
                  >
                    {fault.label}
                    <span class="visually-hidden">replica {replica.id}</span>
                  </button>
                ))}
              </td>
            )}
          </tr>
        ))}
      </Table>
      {cluster.hosts && (
        <HostsTable
          hosts={cluster.hosts}
          leader={leaderHost(cluster)?.host.name}
          onCut={faults
            ? () =>
              act(
                "/admin/hosts/cut_leader",
                {},
                "The leader is cut off from the other executors: watch them call elections.",
              )
            : undefined}
          onIsolate={faults
            ? () =>
              act(
                "/admin/hosts/isolate_leader",
                {},
                "The leader is cut off from every host: once its hold on the queue lapses, another replica takes over.",
              )
            : undefined}
          onHeal={faults ? () => act("/admin/hosts/heal", {}, "Every cut link is healed.") : undefined}
        />
      )}
      <section aria-labelledby="queue-title">
        <h2 id="queue-title">Order queue</h2>
        {queue.reachable
          ? (
            <dl class="queue">
              {QUEUE_COUNTS.map(([count, label]) => (
                <div key={count}>
                  <dt>{label}</dt>
                  <dd data-queue={count === "depth" ? count : undefined}>{queue[count]}</dd>
                </div>
              ))}
            </dl>
          )
          : <p class="error">The queue cannot be reached ({queue.error}).</p>}
        <QueueReplicas
          replicas={cluster.queueReplicas}
          onCrash={faults
            ? (n) => act(`/admin/queue_replicas/${n}/crash`, {}, `Queue replica ${n} crashed; the clients move on.`)
            : undefined}
        />
      </section>
      <section aria-labelledby="store-title">
        <h2 id="store-title">Store</h2>
        <StoreView
          store={cluster.store}
          onCrash={crashesEtcd
            ? (name) => act(`/admin/etcd_members/${name}/crash`, {}, `${name} crashed. Watch the etcd election.`)
            : undefined}
        />
      </section>
      <section aria-labelledby="elections-title">
        <h2 id="elections-title">Recent elections</h2>
        {elections.length === 0 ? <p class="empty">None seen yet.</p> : (
          <ol class="elections">
            {elections.map((e) => (
              <li key={e.epoch}>
                <time dateTime={e.at}>{time(e.at)}</time> — epoch {e.epoch}: replica {e.leaderId} leads
              </li>
            ))}
          </ol>
        )}
      </section>
      {faults && (
        <section aria-labelledby="faults-title" class="faults">
          <h2 id="faults-title">Break a validator</h2>
          <p>Slow makes every call wait longer than the deadline; fail makes every call fail. Then try a checkout.</p>
          <div class="validator-faults">
            {VALIDATORS.map((name) => (
              <div key={name} class="validator">
                <span>{name}</span>
                {(["slow", "fail", "clear"] as const).map((mode) => (
                  <button
                    key={mode}
                    type="button"
                    onClick={() =>
                      act(`/admin/validators/${name}`, { mode }, `${name}: ${mode === "clear" ? "well again" : mode}.`)}
                  >
                    {mode === "clear" ? "Heal" : mode === "slow" ? "Slow" : "Fail"}
                    <span class="visually-hidden">{name}</span>
                  </button>
                ))}
              </div>
            ))}
          </div>
        </section>
      )}
      <p class="notice" role="status" aria-live="polite">{notice.value}</p>
    </div>
  );
}

/** The store: a line for the embedded files, or the etcd members with their leader and term. */
function StoreView({ store, onCrash }: { store: ClusterView["store"]; onCrash?: (name: string) => void }) {
  if (store.kind === "kv") {
    return <p>Each service keeps its state in an embedded Deno KV file of its own, on this machine.</p>;
  }
  const leader = store.members.find((m) => m.reachable && m.isLeader);
  return (
    <>
      <p class="store-note">
        One etcd cluster holds every service's state, replicated by Raft. Leader:{" "}
        <strong data-etcd-leader={leader?.name ?? ""}>{leader?.name ?? "none"}</strong>
        {leader?.reachable && (
          <>
            , Raft term <strong data-raft-term={leader.raftTerm}>{leader.raftTerm}</strong>
          </>
        )}
      </p>
      <EtcdMembers members={store.members} onCrash={onCrash} />
    </>
  );
}
