/**
 * The hosts of the cluster page (`deno task dev --hosts`): each process's
 * host and address and the hosts its links are cut from, the executor
 * leader's host highlighted; with `onCut`, `onIsolate` and `onHeal`, the
 * buttons that cut the leader off from the other executors (it keeps the
 * queue, and with it the lead), from every host (another replica takes
 * over), and heal every cut link. It
 * renders on the server and in the cluster panel's island alike.
 *
 * @module
 */
import type { HostsView } from "@bookstore/lib/contracts";
import { Table } from "./table.tsx";

/** Props of {@linkcode HostsTable}. */
export interface HostsTableProps {
  /** Every host, as the supervisor shows them. */
  hosts: HostsView;
  /** The executor leader's host, if known. */
  leader?: string;
  /** Cuts the leader off from the other executors; no buttons without it. */
  onCut?: () => void;
  /** Cuts the leader off from every host. */
  onIsolate?: () => void;
  /** Heals every cut link. */
  onHeal?: () => void;
}

/** The hosts' section: a line on what they are, the buttons, and the table. */
export function HostsTable({ hosts, leader, onCut, onIsolate, onHeal }: HostsTableProps) {
  const cut = hosts.hosts.filter((host) => host.cutFrom.length > 0);
  return (
    <section aria-labelledby="hosts-title">
      <h2 id="hosts-title">Hosts</h2>
      <p class="hosts-note">
        Each process runs on a host of its own (a network namespace with an address of its own), so links between them
        can be cut.{" "}
        <strong data-cut-hosts={cut.length}>
          {cut.length === 0 ? "No link is cut." : `${cut.length} hosts have cut links.`}
        </strong>
      </p>
      {onCut && onIsolate && onHeal && (
        <div class="host-faults">
          <button type="button" disabled={leader === undefined} onClick={onCut}>Cut the leader off</button>
          <button type="button" disabled={leader === undefined} onClick={onIsolate}>
            Cut the leader off from everything
          </button>
          <button type="button" disabled={cut.length === 0} onClick={onHeal}>Heal</button>
        </div>
      )}
      <Table class="members hosts" caption="Hosts" columns={["Host", "Address", "Cut off from"]}>
        {hosts.hosts.map((host) => (
          <tr
            key={host.name}
            data-host={host.name}
            data-cut={host.cutFrom.length > 0 ? "yes" : "no"}
            class={host.name === leader ? "leader" : host.cutFrom.length > 0 ? "down" : ""}
          >
            <th scope="row">
              {host.name}
              {host.name === leader && " (leader)"}
            </th>
            <td>
              <code>{host.address}</code>
            </td>
            <td>{host.cutFrom.length > 0 ? host.cutFrom.join(", ") : "—"}</td>
          </tr>
        ))}
      </Table>
    </section>
  );
}
