import assert from "node:assert/strict";
import { etcdMemberStatus } from "./cluster.ts";
import { startEtcdCluster } from "./testing.ts";

Deno.test("a test cluster elects a leader, survives its SIGKILL, and takes the member back", async () => {
  await using cluster = await startEtcdCluster();
  assert.equal(cluster.endpoints.length, 3);
  const leader = await cluster.leaderIndex();
  await cluster.kill(leader);
  const next = await cluster.leaderIndex();
  assert.notEqual(next, leader);
  await cluster.restart(leader);
  const status = await etcdMemberStatus(cluster.endpoints[leader]);
  assert.notEqual(status.leaderId, "0");
});

Deno.test("a paused member answers nothing until resumed", async () => {
  await using cluster = await startEtcdCluster({ members: 1 });
  await cluster.pause(0);
  await assert.rejects(etcdMemberStatus(cluster.endpoints[0], { timeoutMs: 300 }));
  cluster.resume(0);
  await etcdMemberStatus(cluster.endpoints[0], { timeoutMs: 5000 });
});

Deno.test("stop() deletes the members' data", async () => {
  const cluster = await startEtcdCluster({ members: 1 });
  await cluster.stop();
  await assert.rejects(Deno.stat(cluster.dataDir), Deno.errors.NotFound);
});

Deno.test("without the etcd binary, the helper says what to install", async () => {
  await assert.rejects(
    startEtcdCluster({ binary: "etcd-that-is-not-installed" }),
    /apt-get install etcd-server etcd-client/,
  );
});
