import assert from "node:assert/strict";
import { clusterViewSchema, type QueueStatus } from "@bookstore/lib/contracts";
import type { Client, ServiceSpec } from "@bookstore/lib/rpc";
import { createClusterReader } from "./cluster_reader.ts";

const STATUS: QueueStatus = {
  depth: 3,
  leased: 1,
  deadLetters: 0,
  epoch: 7,
  leaderId: 4,
  executed: 12,
  failed: 0,
  fenced: 0,
};

/** Clients that answer from `answers` by base URL, or fail as an unreachable peer would. */
function connectTo(answers: Record<string, unknown>) {
  return <S extends ServiceSpec>(_service: S, options: { baseUrl?: string | readonly string[] }) => {
    const url = String(options.baseUrl);
    const answer = () => url in answers ? Promise.resolve(answers[url]) : Promise.reject(new Error(`${url} refused`));
    return { GetQueueStatus: answer, GetExecutorStatus: answer } as unknown as Client<S>;
  };
}

Deno.test("every queue replica is shown; the queue's counts come from the first that answers", async () => {
  const read = createClusterReader({
    peers: new Map(),
    queueReplicas: ["http://127.0.0.1:1", "http://127.0.0.1:2"],
    store: { kind: "kv" },
    connect: connectTo({ "http://127.0.0.1:2": STATUS }),
  });
  const view = clusterViewSchema.parse(await read());
  assert.deepEqual(view.queueReplicas, [
    { replica: 1, url: "http://127.0.0.1:1", reachable: false, error: "http://127.0.0.1:1 refused" },
    { replica: 2, url: "http://127.0.0.1:2", reachable: true },
  ]);
  assert.deepEqual(view.queue, { reachable: true, ...STATUS });
  assert.deepEqual(view.store, { kind: "kv" });

  const down = await createClusterReader({
    peers: new Map(),
    queueReplicas: ["http://127.0.0.1:1", "http://127.0.0.1:2"],
    store: { kind: "kv" },
    connect: connectTo({}),
  })();
  assert.equal(down.queue.reachable, false);
  assert.match("error" in down.queue ? down.queue.error : "", /no replica answered .*:1 refused.*:2 refused/);
});

/** A stand-in etcd member: its status says who leads; its member list names every member, down ones too. */
function fakeMember(options: { id: string; leader: string; term: number; members: unknown[] }) {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/v3/maintenance/status") {
      return Response.json({
        header: { member_id: options.id, raft_term: String(options.term) },
        leader: options.leader,
        dbSize: "20480",
      });
    }
    if (path === "/v3/cluster/member/list") return Response.json({ members: options.members });
    return new Response("404 page not found", { status: 404 });
  });
}

Deno.test("etcd members are shown by the name the cluster knows them by, the leader marked, a down one too", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const downUrl = `http://127.0.0.1:${(closed.addr as Deno.NetAddr).port}`;
  closed.close();
  const members: { ID: string; name: string; clientURLs: string[] }[] = [];
  const leader = fakeMember({ id: "11", leader: "11", term: 5, members });
  const follower = fakeMember({ id: "22", leader: "11", term: 5, members });
  const url = (server: Deno.HttpServer<Deno.NetAddr>) => `http://127.0.0.1:${server.addr.port}`;
  members.push(
    { ID: "11", name: "etcd1", clientURLs: [url(leader)] },
    { ID: "22", name: "etcd2", clientURLs: [url(follower)] },
    { ID: "33", name: "etcd3", clientURLs: [downUrl] },
  );
  try {
    const read = createClusterReader({
      peers: new Map(),
      queueReplicas: ["http://127.0.0.1:1"],
      store: { kind: "etcd", endpoints: [url(leader), url(follower), downUrl] },
      connect: connectTo({}),
    });
    const { store } = clusterViewSchema.parse(await read());
    assert.equal(store.kind, "etcd");
    const shown = store.kind === "etcd"
      ? store.members.map((m) => [m.name, m.reachable, m.reachable && m.isLeader, m.reachable && m.raftTerm])
      : [];
    assert.deepEqual(shown, [["etcd1", true, true, 5], ["etcd2", true, false, 5], ["etcd3", false, false, false]]);
  } finally {
    await Promise.all([leader.shutdown(), follower.shutdown()]);
  }
});

Deno.test("with no etcd member answering, each is named by its address and says why", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close();
  const read = createClusterReader({
    peers: new Map(),
    queueReplicas: ["http://127.0.0.1:1"],
    store: { kind: "etcd", endpoints: [`http://127.0.0.1:${port}`] },
    connect: connectTo({}),
  });
  const { store } = await read();
  assert.ok(store.kind === "etcd");
  assert.equal(store.members[0].name, `127.0.0.1:${port}`);
  assert.equal(store.members[0].reachable, false);
});
