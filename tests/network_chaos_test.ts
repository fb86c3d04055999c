/**
 * The chaos suite under real network faults: the etcd topology with each
 * process on a host of its own (`startCluster({ hosts: true })`), iptables
 * rules cutting, healing and losing packets between hosts, a steady flow of
 * keyed and unkeyed checkouts, then the history checker. Root only: skipped,
 * with the reason printed, where namespaces cannot be made.
 *
 * Design: the test's own requests must come from a host too (the root
 * namespace cannot reach the hosts' 127.77.x.y, and must not try). A process
 * cannot change its own namespace, so this file runs twice: run as usual, each
 * test makes an empty `client` namespace and runs this file again inside it,
 * filtered to that one test (`runInsideClient`), and passes when that run
 * does; inside, the cluster's network links that namespace to its bridge as
 * its first host, and the scenario runs (see `tests/support/cluster_hosts.ts`).
 * `deno test -A tests/network_chaos_test.ts --filter <part of a name>` works
 * the same way in both runs.
 */
import assert from "node:assert/strict";
import { hostsUnavailable, type Network } from "@bookstore/dev/hosts/network";
import { cut, dropFrom, heal, loss, noLoss } from "@bookstore/dev/hosts/faults";
import { delayingRelay } from "@bookstore/dev/hosts/relay";
import { freePorts } from "@bookstore/lib/free_ports";
import { chaos, CHAOS_ENV, type Scenario } from "./support/chaos.ts";
import type { Cluster } from "./support/cluster.ts";
import { CLIENT_ADDRESS, CLIENT_HOST, clientNamespace, runInsideClient } from "./support/cluster_hosts.ts";
import { etcdLeader, etcdStatuses } from "./support/etcd_members.ts";
import { REPLICAS, replicaStatus, stableLeader } from "./support/executors.ts";
import { type Execution, executionsFromLogs, type Traffic, waitForCalls } from "./support/history.ts";
import { eventually } from "./support/wait.ts";

const refusal = await hostsUnavailable();
if (refusal) console.log(`tests/network_chaos_test.ts skipped: ${refusal}`);
const inside = clientNamespace() !== undefined;

/** A scenario on hosts: the etcd topology, each process a host, and the flow lighter than on loopback (more processes). */
function onHosts(fault: Scenario["fault"], options: { replicas?: number; flowsUnderFault?: boolean } = {}): Scenario {
  return {
    cluster: { store: "etcd", restart: true, hosts: true, replicas: options.replicas },
    traffic: { clients: 4, thinkMs: 100 },
    flowsUnderFault: options.flowsUnderFault ?? true,
    fault,
  };
}

/** A test that, in the root namespace, runs itself again in a client namespace (see the module's doc). */
function networkTest(name: string, scenario: () => Scenario): void {
  Deno.test({ name, ignore: refusal !== undefined }, async () => {
    if (!inside) return await runInsideClient({ file: new URL(import.meta.url).pathname, name });
    await chaos(scenario());
  });
}

/** Cuts `name` off from each of `others`, both ways. */
async function cutOff(cluster: Cluster, name: string, others: readonly string[]): Promise<void> {
  await Promise.all(others.map((other) => cut(cluster.host(name), cluster.host(other))));
}

/** Heals what {@linkcode cutOff} did. */
async function healAll(cluster: Cluster, name: string, others: readonly string[]): Promise<void> {
  await Promise.all(others.map((other) => heal(cluster.host(name), cluster.host(other))));
}

/** Every process's host but the client's. */
function processHosts(network: Network): string[] {
  return network.hosts.map((host) => host.name).filter((name) => name !== CLIENT_HOST);
}

/** Waits until `count` more checkouts than now were approved. */
async function approvals(traffic: Traffic, count: number): Promise<void> {
  const target = traffic.approved + count;
  await eventually(() => traffic.approved >= target, {
    message: `${count} more approved checkouts (${traffic.approved} of ${target})`,
    timeoutMs: 30_000,
  });
}

const executorName = (id: number) => `order_executor_${id}`;

/** Freezes process `name`'s event loop for `ms` (its /admin/pause, as SIGSTOP would), from the client's host. */
async function pause(cluster: Cluster, options: { name: string; ms: number }): Promise<void> {
  const response = await fetch(`${cluster.url(options.name)}/admin/pause`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${cluster.token}` },
    body: JSON.stringify({ ms: options.ms }),
    signal: AbortSignal.timeout(5000),
  });
  if (!response.ok) throw new Error(`pausing ${options.name} failed: ${response.status} ${await response.text()}`);
  await response.body?.cancel();
}

/** How long the cut-off leader is frozen: well past its lease at the queue (the heartbeat timeout, 200 ms). */
const PAUSE_MS = 1500;

/**
 * How much later than a newer epoch's first execution an older epoch's may be logged: an ack committed before the
 * newer epoch was issued whose answer came back slowly, or whose log line waited out the freeze (`PAUSE_MS`). Anything later
 * means the fence let a deposed leader work.
 */
const FENCE_MARGIN_MS = 1000 + PAUSE_MS;

/** When each epoch's first execution was logged. */
function firstExecutions(executions: readonly Execution[]): Map<number, number> {
  const first = new Map<number, number>();
  for (const { epoch, at } of executions) {
    if (at !== undefined && !(at >= (first.get(epoch) ?? Infinity))) first.set(epoch, at);
  }
  return first;
}

/** Executions logged under an epoch after a newer epoch's first (past the margin): the fence's failures. */
function lateExecutions(executions: readonly Execution[]): Execution[] {
  const first = [...firstExecutions(executions)];
  return executions.filter((e) =>
    e.at !== undefined && first.some(([epoch, at]) => epoch > e.epoch && e.at! > at + FENCE_MARGIN_MS)
  );
}

networkTest(
  "network chaos: the executor leader cut off from its followers, not the queue, then healed",
  () =>
    onHosts(async (cluster, traffic, strike) => {
      const leader = await stableLeader(cluster);
      const followers = REPLICAS.filter((id) => id !== leader.id);
      await cutOff(cluster, executorName(leader.id), followers.map(executorName));
      strike();
      // The followers hear no heartbeat and call elections; the queue refuses them an epoch while the old leader keeps
      // working (its lease). Frozen past its lease, it falls silent and a follower gets a newer epoch; resumed, still
      // cut off from every peer, it can learn that its epoch is over only from the queue's fence.
      await pause(cluster, { name: executorName(leader.id), ms: PAUSE_MS });
      await eventually(async () => (await cluster.queue().GetQueueStatus({})).epoch > leader.epoch, {
        message: `a newer epoch than ${leader.epoch} issued`,
        timeoutMs: 20_000,
      });
      await eventually(async () => {
        const status = await replicaStatus(cluster, leader.id);
        return status !== undefined && !(status.role === "leader" && status.epoch === leader.epoch);
      }, { message: `the fence to depose executor ${leader.id} from epoch ${leader.epoch}`, timeoutMs: 20_000 });
      // Kept cut for a dozen more checkouts (seconds, well past the margin), so that an old leader the fence failed to
      // stop (both believe they lead) has time to execute something and show. Neither a stable leader among the
      // followers nor executions are required here: the cut-off replica, the highest, may take the fence back (the
      // queue lets a higher replica take over), and it and the followers' leader may depose each other in turn.
      await approvals(traffic, 12);
      const during = executionsFromLogs(cluster).filter((e) => e.epoch > leader.epoch);
      const { epoch } = await cluster.queue().GetQueueStatus({});
      console.log(
        `    executor ${leader.id} cut off from its followers in epoch ${leader.epoch}: epochs up to ${epoch} issued ` +
          `while cut, ${during.length} orders executed under them (by ${
            [...new Set(during.map((e) => `${e.replica}@${e.epoch}`))].join(", ") || "none"
          })`,
      );
      assert.deepEqual(lateExecutions(executionsFromLogs(cluster)), [], "executed under an epoch already superseded");
      await healAll(cluster, executorName(leader.id), followers.map(executorName));
      // Healed: one leader again, every replica agreeing, in a newer epoch.
      const after = await stableLeader(cluster, { aboveEpoch: leader.epoch, timeoutMs: 30_000 });
      console.log(`    healed: executor ${after.id} leads epoch ${after.epoch}, every replica agreeing`);
      await waitForCalls(traffic, 3);
      assert.deepEqual(lateExecutions(executionsFromLogs(cluster)), [], "executed under an epoch already superseded");
    }),
);

networkTest(
  "network chaos: the executor leader cut off from the queue replicas only",
  () =>
    onHosts(async (cluster, traffic, strike) => {
      const leader = await stableLeader(cluster);
      const queues = cluster.supervisor.names.filter((name) => name.startsWith("order_queue"));
      await cutOff(cluster, executorName(leader.id), queues);
      strike();
      try {
        // It still heartbeats its followers; cut off from the queue past the heartbeat timeout it must step down and
        // let another lead, or orders would stop.
        const next = await stableLeader(cluster, { aboveEpoch: leader.epoch, timeoutMs: 30_000 });
        assert.notEqual(next.id, leader.id, "a leader that cannot reach the queue does not lead");
        console.log(`    executor ${leader.id} cut off from the queue: executor ${next.id} leads epoch ${next.epoch}`);
        await approvals(traffic, 3);
      } finally {
        await healAll(cluster, executorName(leader.id), queues);
      }
      await stableLeader(cluster, { aboveEpoch: leader.epoch, timeoutMs: 30_000 });
      await waitForCalls(traffic, 3);
    }),
);

/** Waits until the members other than `apart` agree on a leader among them in a term above `aboveTerm`. */
function majorityLeader(cluster: Cluster, options: { apart: string; aboveTerm: number }) {
  return eventually(async () => {
    const statuses = [...await etcdStatuses(cluster)].filter(([name]) => name !== options.apart);
    const leaders = statuses.filter(([, status]) => status.isLeader);
    if (statuses.length < 2 || leaders.length !== 1) return undefined;
    const [[name, leader]] = leaders;
    const agreed = statuses.every(([, s]) => s.leaderId === leader.memberId && s.raftTerm === leader.raftTerm);
    return agreed && leader.raftTerm > options.aboveTerm ? { name, term: leader.raftTerm } : undefined;
  }, { timeoutMs: 20_000, intervalMs: 50, message: `the members but ${options.apart} to elect a leader` });
}

networkTest(
  "network chaos: an etcd follower cut off from the other members and healed, then the etcd leader",
  () =>
    onHosts(async (cluster, traffic, strike) => {
      const members = cluster.etcdMembers;
      const before = await etcdLeader(cluster, { answering: 3 });
      const follower = members.find((name) => name !== before.name)!;
      const peers = (name: string) => members.filter((other) => other !== name);
      await cutOff(cluster, follower, peers(follower));
      strike();
      // A minority gone: the majority keeps its leader and the flow goes on.
      await approvals(traffic, 3);
      await healAll(cluster, follower, peers(follower));
      const healed = await etcdLeader(cluster, { answering: 3, timeoutMs: 30_000 });
      await waitForCalls(traffic, 3);
      await cutOff(cluster, healed.name, peers(healed.name));
      strike();
      try {
        const after = await majorityLeader(cluster, { apart: healed.name, aboveTerm: healed.term });
        console.log(
          `    etcd leader ${healed.name} (term ${healed.term}) cut off: ${after.name} leads term ${after.term}`,
        );
        await approvals(traffic, 3);
      } finally {
        await healAll(cluster, healed.name, peers(healed.name));
      }
      await etcdLeader(cluster, { answering: 3, aboveTerm: healed.term, timeoutMs: 30_000 });
      await waitForCalls(traffic, 3);
    }),
);

networkTest(
  "network chaos: one validator instance (of two) cut off mid-flow, then healed",
  () =>
    onHosts(async (cluster, traffic, strike) => {
      const validator = "transaction_verification_1";
      const others = processHosts(cluster.network!).filter((name) => name !== validator);
      await cutOff(cluster, validator, others);
      strike();
      try {
        // Routed around: the orchestrators move past the instance they cannot reach.
        await approvals(traffic, 6);
      } finally {
        await healAll(cluster, validator, others);
      }
      await waitForCalls(traffic, 3);
    }, { replicas: 2 }),
);

networkTest(
  "network chaos: the queue's replies lost at the orchestrator (one-way), then healed",
  () =>
    onHosts(async (cluster, traffic, strike) => {
      // Each Enqueue reaches replica 1 and is stored, but the answer never comes back: the orchestrator must move to
      // replica 2 with the same order, and the order must be placed once.
      const queue = cluster.host("order_queue_1");
      await dropFrom(cluster.host("orchestrator"), queue);
      strike();
      try {
        await approvals(traffic, 4);
      } finally {
        await heal(cluster.host("orchestrator"), queue);
      }
      await waitForCalls(traffic, 3);
    }),
);

/** Added latency on every path to the queue, each replica behind a delaying relay on the client's host. */
const RELAY_DELAY_MS = 40;

networkTest("network chaos: 5% packet loss on every host, 40 ms more to the queue; checkouts answered in time", () => {
  const relayPorts = freePorts(2);
  const scenario = onHosts(async (cluster, traffic, strike) => {
    const hosts = processHosts(cluster.network!);
    await Promise.all(hosts.map((name) => loss(cluster.host(name), { probability: 0.05 })));
    strike();
    try {
      await approvals(traffic, 10);
    } finally {
      await Promise.all(hosts.map((name) => noLoss(cluster.host(name))));
    }
    await waitForCalls(traffic, 3);
    // Every answer came within the checkout's deadline (with room for the client's own lost packets): no hang.
    const limit = Number(CHAOS_ENV.CHECKOUT_TIMEOUT_MS) + 2000;
    const slowest = Math.max(...traffic.history.flatMap((call) => call.attempts.map((a) => a.end - a.start)));
    console.log(`    slowest checkout attempt: ${slowest} ms (deadline ${CHAOS_ENV.CHECKOUT_TIMEOUT_MS} ms)`);
    assert.ok(slowest <= limit, `a checkout took ${slowest} ms, past its deadline`);
  });
  return {
    ...scenario,
    // The services reach the queue through the relays; the test's own reads go straight to the replicas.
    env: { ORDER_QUEUE_URL: relayPorts.map((port) => `http://${CLIENT_ADDRESS}:${port}`).join(",") },
    cluster: {
      ...scenario.cluster,
      beforeServices: (cluster) =>
        cluster.queueUrls.map((url, i) =>
          delayingRelay({
            listen: { hostname: CLIENT_ADDRESS, port: relayPorts[i] },
            target: { hostname: new URL(url).hostname, port: Number(new URL(url).port) },
            delayMs: RELAY_DELAY_MS,
          })
        ),
    },
  };
});
