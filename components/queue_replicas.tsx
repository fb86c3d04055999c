/**
 * The order queue replicas of the cluster page: each replica's number, its
 * URL and whether it answers; with `onCrash`, a Crash button per replica
 * that is up. Every replica serves the same queue (its state is in the
 * store), so there is no leader to show. It renders on the server and in
 * the cluster panel's island alike.
 *
 * @module
 */
import type { QueueReplicaView } from "@bookstore/lib/contracts";
import { Table } from "./table.tsx";

/** Props of {@linkcode QueueReplicas}. */
export interface QueueReplicasProps {
  /** Every replica, as `GET /cluster` shows it. */
  replicas: readonly QueueReplicaView[];
  /** Crashes a replica by number; no Crash buttons without it. */
  onCrash?: (replica: number) => void;
}

/** The queue replicas' table. */
export function QueueReplicas({ replicas, onCrash }: QueueReplicasProps) {
  return (
    <Table
      class="members queue-replicas"
      caption="Queue replicas"
      columns={["Replica", "URL", "State", onCrash !== undefined && "Faults"]}
    >
      {replicas.map((replica) => (
        <tr
          key={replica.replica}
          data-queue-replica={replica.replica}
          data-role={replica.reachable ? "up" : "down"}
          class={replica.reachable ? "" : "down"}
        >
          <th scope="row">{replica.replica}</th>
          <td>
            <code>{replica.url}</code>
          </td>
          <td>{replica.reachable ? "up" : "down"}</td>
          {onCrash && (
            <td class="actions">
              <button type="button" disabled={!replica.reachable} onClick={() => onCrash(replica.replica)}>
                Crash<span class="visually-hidden">queue replica {replica.replica}</span>
              </button>
            </td>
          )}
        </tr>
      ))}
    </Table>
  );
}
