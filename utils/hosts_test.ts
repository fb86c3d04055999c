import assert from "node:assert/strict";
import { fakeCluster } from "./fake_shop.ts";
import { hostAt, leaderHost } from "./hosts.ts";

Deno.test("an executor's host is the one its URL's address names; the leader's is the queue's leader's", () => {
  const cluster = fakeCluster({ hosts: true });
  const hosts = cluster.hosts!.hosts;
  assert.equal(hostAt(hosts, "http://127.77.1.3:50063")?.name, "order_executor_3");
  assert.equal(hostAt(hosts, "http://127.0.0.1:50063"), undefined);
  assert.deepEqual(leaderHost(cluster), { replica: 4, host: hosts.find((h) => h.name === "order_executor_4") });
  // The queue's fence names the leader, not a replica that still believes it leads.
  const moved = { ...cluster, queue: { ...cluster.queue, leaderId: 3, epoch: 2 } } as typeof cluster;
  assert.equal(leaderHost(moved)?.host.name, "order_executor_3");
  assert.equal(leaderHost(fakeCluster({ hosts: false })), undefined, "no hosts, no leader's host");
});
