/**
 * The etcd members of the cluster page: each member by name, its client
 * URL, whether it leads or follows (or is down), the Raft term it is in and
 * how large its database is, the leader highlighted; with `onCrash`, a Crash
 * button per member that is up. It renders on the server and in the cluster
 * panel's island alike.
 *
 * @module
 */
import type { EtcdMemberView } from "@bookstore/lib/contracts";
import { Table } from "./table.tsx";

/** Props of {@linkcode EtcdMembers}. */
export interface EtcdMembersProps {
  /** Every member, as `GET /cluster` shows it. */
  members: readonly EtcdMemberView[];
  /** Crashes a member by name; no Crash buttons without it. */
  onCrash?: (name: string) => void;
}

function role(member: EtcdMemberView): "leader" | "follower" | "down" {
  if (!member.reachable) return "down";
  return member.isLeader ? "leader" : "follower";
}

function kib(bytes: number): string {
  return `${Math.round(bytes / 1024)} KiB`;
}

/** The etcd members' table. */
export function EtcdMembers({ members, onCrash }: EtcdMembersProps) {
  return (
    <Table
      class="members etcd-members"
      caption="etcd members"
      columns={["Member", "Client URL", "Role", "Raft term", "Database", onCrash !== undefined && "Faults"]}
    >
      {members.map((member) => (
        <tr key={member.endpoint} data-member={member.name} data-role={role(member)} class={role(member)}>
          <th scope="row">{member.name}</th>
          <td>
            <code>{member.endpoint}</code>
          </td>
          <td>{role(member)}</td>
          <td>{member.reachable ? member.raftTerm : "—"}</td>
          <td>{member.reachable ? kib(member.dbSize) : "—"}</td>
          {onCrash && (
            <td class="actions">
              <button
                type="button"
                disabled={!member.reachable}
                onClick={() => onCrash(member.name)}
              >
                Crash<span class="visually-hidden">etcd member {member.name}</span>
              </button>
            </td>
          )}
        </tr>
      ))}
    </Table>
  );
}
