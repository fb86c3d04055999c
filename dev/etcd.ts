/**
 * The store comes up before the services that keep their state in it, and
 * goes down after them: with
 * `BOOKSTORE_STORE=etcd`, either the etcd members the topology runs are
 * started and waited on until they have a leader, or the existing cluster
 * `BOOKSTORE_ETCD_ENDPOINTS` names is asked whether it has one. Each failure
 * is one clear error naming what to install or check, within a deadline,
 * never a hang: `deno task dev` prints it and stops.
 *
 * @module
 */
import { waitFor } from "@bookstore/lib/async";
import { describeFetchFailure } from "@bookstore/lib/rpc";
import { etcdMemberStatus } from "@bookstore/lib/store/etcd/cluster";
import type { Supervisor } from "./supervisor.ts";
import { ETCD_COMMAND, etcdMemberNames, type ProcessSpec, type TopologyStore } from "./topology.ts";

/** How long the store has to come up (members started, a leader elected) before start-up gives up. */
export const STORE_START_TIMEOUT_MS = 10_000;

/** The one line that says what to do when the `etcd` program is missing. */
export const ETCD_MISSING =
  `BOOKSTORE_STORE=etcd starts an etcd cluster, but there is no \`${ETCD_COMMAND}\` program ` +
  "on PATH: install it (apt-get install etcd-server etcd-client), or set BOOKSTORE_ETCD_ENDPOINTS to the client URLs " +
  "of an existing cluster";

/** The version the `etcd` program says it is (`3.4.23`); throws {@linkcode ETCD_MISSING} when there is none. */
export async function etcdVersion(): Promise<string> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(ETCD_COMMAND, { args: ["--version"], stdin: "null" }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new Error(ETCD_MISSING);
    throw error;
  }
  const text = new TextDecoder().decode(output.stdout);
  const version = /etcd Version: (\S+)/.exec(text)?.[1];
  if (!output.success || version === undefined) {
    throw new Error(`\`${ETCD_COMMAND} --version\` did not say its version: ${text.trim().slice(0, 200)}`);
  }
  return version;
}

/**
 * Waits until the cluster at `endpoints` has a leader (any member that
 * answers names one), asking each member within `etcdTimeoutMs`; throws,
 * naming every endpoint and what it answered, once `timeoutMs` has passed.
 */
export async function waitForEtcdLeader(
  endpoints: readonly string[],
  options: { timeoutMs: number; etcdTimeoutMs: number },
): Promise<void> {
  const answers = new Map<string, string>(endpoints.map((endpoint) => [endpoint, "not asked yet"]));
  const hasLeader = async () => {
    const statuses = await Promise.all(endpoints.map(async (endpoint) => {
      try {
        const status = await etcdMemberStatus(endpoint, { timeoutMs: options.etcdTimeoutMs });
        // etcd says leader 0 while it knows of none.
        answers.set(endpoint, status.leaderId === "0" ? "answers, but knows of no leader" : "has a leader");
        return status.leaderId !== "0";
      } catch (error) {
        answers.set(endpoint, describeFetchFailure(error));
        return false;
      }
    }));
    return statuses.some(Boolean);
  };
  try {
    await waitFor(hasLeader, options.timeoutMs, { step: 100 });
  } catch (error) {
    if (!(error instanceof DOMException && error.name === "TimeoutError")) throw error;
    const each = [...answers].map(([endpoint, answer]) => `${endpoint}: ${answer}`).join("; ");
    throw new Error(
      `the etcd cluster at ${endpoints.join(", ")} has no leader after ${options.timeoutMs} ms (${each}); ` +
        "check that its members run and reach each other, or that BOOKSTORE_ETCD_ENDPOINTS names them",
    );
  }
}

/** Options for {@linkcode startStore}. */
export interface StartStoreOptions {
  /** Where the topology keeps the services' state. */
  store: TopologyStore;
  /** The topology's processes, the etcd members among them. */
  specs: readonly ProcessSpec[];
  /** How long the store has to come up. @default STORE_START_TIMEOUT_MS */
  timeoutMs?: number;
  /** Deadline of one status call to a member. @default 1000 */
  etcdTimeoutMs?: number;
}

/**
 * Brings the store up under `supervisor` before anything else starts: the
 * etcd members among the specs are started (after checking the program is
 * installed) and waited on until they elect a leader; an existing cluster is
 * asked for its leader. Nothing to do for the embedded store.
 */
export async function startStore(supervisor: Supervisor, options: StartStoreOptions): Promise<void> {
  const { store } = options;
  if (store.kind === "kv") return;
  const timeouts = {
    timeoutMs: options.timeoutMs ?? STORE_START_TIMEOUT_MS,
    etcdTimeoutMs: options.etcdTimeoutMs ?? 1000,
  };
  if ("endpoints" in store) return await waitForEtcdLeader(store.endpoints, timeouts);
  await etcdVersion();
  const names = etcdMemberNames(options.specs);
  supervisor.start(names);
  try {
    await waitForEtcdLeader(
      names.map((name) => {
        const { host, port } = supervisor.spec(name);
        return `http://${host?.address ?? "127.0.0.1"}:${port}`;
      }),
      timeouts,
    );
  } catch (error) {
    const said = names.flatMap((name) => supervisor.lines(name).slice(-3).map((line) => `\n  ${name} │ ${line}`));
    throw new Error(`${(error as Error).message}${said.join("")}`, { cause: error });
  }
}

/**
 * Stops the services, then the etcd members they were using (so that no
 * service's last calls meet a store that is going away). A member stopped
 * while its peers stop too can take seconds to leave; the supervisor's own
 * deadline bounds it.
 */
export async function stopSystem(supervisor: Supervisor, specs: readonly ProcessSpec[]): Promise<void> {
  const store = etcdMemberNames(specs);
  await Promise.all(supervisor.names.filter((name) => !store.includes(name)).map((name) => supervisor.stop(name)));
  await Promise.all(store.map((name) => supervisor.stop(name)));
}
