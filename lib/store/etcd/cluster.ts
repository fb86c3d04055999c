/**
 * An etcd cluster on one machine: each member's command line, and what a
 * member says of itself (its id, the leader's id, the Raft term). `deno task
 * dev` and the tests start members with these arguments and supervise them
 * like every other process.
 *
 * @module
 */
import { z } from "zod";
import { timeoutSignal } from "../../async.ts";
import { statusResponseSchema } from "./gateway.ts";

/** One member: its name and the ports it serves clients and its peers on. */
export interface EtcdMember {
  /** The member's name (`etcd1`, `etcd2`, …), unique in the cluster. */
  name: string;
  /** Port of the client API (`/v3/...` JSON gateway). */
  clientPort: number;
  /** Port of Raft traffic between members. */
  peerPort: number;
}

/** Options of {@linkcode etcdMemberArgs}. */
export interface EtcdMemberOptions {
  /** Every member of the cluster, this one included. */
  members: readonly EtcdMember[];
  /** Directory under which each member keeps `<name>.etcd`. */
  dataDir: string;
  /** Interface the members bind to and advertise. @default "127.0.0.1" */
  host?: string;
  /** Each member's own interface, by its name, when members are hosts of their own; `host` for all otherwise. */
  hostOf?: (name: string) => string;
  /** Names the cluster, so that members of another cluster cannot join it by mistake. @default "bookstore" */
  clusterToken?: string;
}

/** Members named `etcd1`, `etcd2`, … on the given ports. */
export function etcdMembers(ports: readonly { client: number; peer: number }[]): EtcdMember[] {
  return ports.map(({ client, peer }, i) => ({ name: `etcd${i + 1}`, clientPort: client, peerPort: peer }));
}

/**
 * The `etcd` command line of `member`. Timings suit members on one machine
 * or one LAN: heartbeats every 50 ms and an election after 300 ms of silence
 * (etcd's defaults, 100 ms and 1 s, are for WANs), so a lost leader is
 * replaced in well under a second. History older than one hour is compacted
 * away, so the store does not grow with every revision it ever had. The
 * initial-cluster flags only matter on the first start: a restarted member
 * rejoins from its data directory.
 */
export function etcdMemberArgs(member: EtcdMember, options: EtcdMemberOptions): string[] {
  const hostOf = options.hostOf ?? (() => options.host ?? "127.0.0.1");
  const peerUrl = (m: EtcdMember) => `http://${hostOf(m.name)}:${m.peerPort}`;
  const clientUrl = `http://${hostOf(member.name)}:${member.clientPort}`;
  return [
    `--name=${member.name}`,
    `--data-dir=${options.dataDir}/${member.name}.etcd`,
    `--listen-client-urls=${clientUrl}`,
    `--advertise-client-urls=${clientUrl}`,
    `--listen-peer-urls=${peerUrl(member)}`,
    `--initial-advertise-peer-urls=${peerUrl(member)}`,
    `--initial-cluster=${options.members.map((m) => `${m.name}=${peerUrl(m)}`).join(",")}`,
    `--initial-cluster-token=${options.clusterToken ?? "bookstore"}`,
    "--initial-cluster-state=new",
    "--heartbeat-interval=50",
    "--election-timeout=300",
    // A new leader resumes each lease from its last checkpoint instead of its full TTL (see ./leases.ts).
    "--experimental-enable-lease-checkpoint",
    "--auto-compaction-mode=periodic",
    "--auto-compaction-retention=1h",
    "--logger=zap",
    "--log-level=warn",
  ];
}

/** What a member says of itself: its id, which member leads, in which Raft term. */
export interface EtcdMemberStatus {
  /** This member's id (decimal, as etcd's JSON gateway writes uint64s). */
  memberId: string;
  /** The leader's id, as this member knows it. */
  leaderId: string;
  /** The Raft term. */
  raftTerm: number;
  /** Whether this member is the leader. */
  isLeader: boolean;
  /** Bytes of the member's database. */
  dbSize: number;
}

/**
 * Asks the member at `endpoint` (`http://host:port`) for its status
 * (`/v3/maintenance/status`); rejects when it does not answer within
 * `options.timeoutMs` (default 1000).
 */
export async function etcdMemberStatus(
  endpoint: string,
  options: EtcdCallOptions = {},
): Promise<EtcdMemberStatus> {
  const status = statusResponseSchema.parse(await callMember(endpoint, "/v3/maintenance/status", options));
  return {
    memberId: status.header.member_id ?? "0",
    leaderId: status.leader ?? "0",
    raftTerm: Number(status.header.raft_term ?? 0),
    isLeader: status.leader !== undefined && status.leader === status.header.member_id,
    dbSize: Number(status.dbSize ?? 0),
  };
}

const memberListSchema = z.object({
  members: z.array(z.object({ ID: z.string(), name: z.string(), clientURLs: z.array(z.string()).default([]) })),
});

/** One member of the cluster as {@linkcode etcdMemberList} tells it. */
export interface EtcdMemberEntry {
  /** The member's id (decimal). */
  id: string;
  /** Its name (`etcd1`); empty while a member added to the cluster has not started yet. */
  name: string;
  /** Where it serves clients. */
  clientUrls: string[];
}

/**
 * Every member of the cluster as the member at `endpoint` knows them
 * (`/v3/cluster/member/list`), those that are down included; rejects when it
 * does not answer within `options.timeoutMs` (default 1000).
 */
export async function etcdMemberList(endpoint: string, options: EtcdCallOptions = {}): Promise<EtcdMemberEntry[]> {
  const { members } = memberListSchema.parse(await callMember(endpoint, "/v3/cluster/member/list", options));
  return members.map((member) => ({ id: member.ID, name: member.name, clientUrls: member.clientURLs }));
}

/** The deadline of one call to a member, and a signal that gives up on it sooner. */
export interface EtcdCallOptions {
  /** How long the member has to answer. @default 1000 */
  timeoutMs?: number;
  /** Gives up on the call when aborted. */
  signal?: AbortSignal;
}

async function callMember(endpoint: string, path: string, options: EtcdCallOptions): Promise<unknown> {
  using deadline = timeoutSignal(options.timeoutMs ?? 1000, { signals: options.signal ? [options.signal] : [] });
  const response = await fetch(`${endpoint}${path}`, { method: "POST", body: "{}", signal: deadline.signal });
  if (!response.ok) throw new Error(`etcd at ${endpoint} answered ${response.status}: ${await response.text()}`);
  return await response.json();
}
