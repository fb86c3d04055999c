/** The store's start-up checks: each failure one clear error, within its deadline. */
import assert from "node:assert/strict";
import { ETCD_MISSING, etcdVersion, waitForEtcdLeader } from "./etcd.ts";

function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A stand-in member whose status names `leader()` as the leader ("0": none). */
function fakeMember(leader: () => string) {
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => Response.json({ header: { member_id: "7", raft_term: "2" }, leader: leader() }),
  );
}

Deno.test("a cluster that does not answer is an error naming every endpoint, once the deadline has passed", async () => {
  const endpoints = [`http://127.0.0.1:${closedPort()}`, `http://127.0.0.1:${closedPort()}`];
  const started = performance.now();
  await assert.rejects(() => waitForEtcdLeader(endpoints, { timeoutMs: 300, etcdTimeoutMs: 200 }), (error: Error) => {
    assert.match(error.message, /^the etcd cluster at .* has no leader after 300 ms/);
    for (const endpoint of endpoints) assert.ok(error.message.includes(`${endpoint}: `), error.message);
    assert.match(error.message, /BOOKSTORE_ETCD_ENDPOINTS/);
    return true;
  });
  assert.ok(performance.now() - started < 5000, "it gives up, it does not hang");
});

Deno.test("a member that answers without a leader is not enough; one that names a leader is", async () => {
  let leader = "0";
  await using member = fakeMember(() => leader);
  const endpoint = `http://127.0.0.1:${member.addr.port}`;
  await assert.rejects(
    () => waitForEtcdLeader([endpoint], { timeoutMs: 200, etcdTimeoutMs: 200 }),
    /answers, but knows of no leader/,
  );
  const waiting = waitForEtcdLeader([endpoint], { timeoutMs: 10_000, etcdTimeoutMs: 500 });
  leader = "7";
  await waiting;
});

Deno.test("no etcd program on PATH is the one line that says what to install", async () => {
  const path = Deno.env.get("PATH");
  const empty = await Deno.makeTempDir();
  Deno.env.set("PATH", empty);
  try {
    await assert.rejects(() => etcdVersion(), (error: Error) => error.message === ETCD_MISSING);
  } finally {
    if (path === undefined) Deno.env.delete("PATH");
    else Deno.env.set("PATH", path);
    await Deno.remove(empty);
  }
  assert.match(ETCD_MISSING, /apt-get install etcd-server etcd-client/);
  assert.ok(!ETCD_MISSING.includes("\n"), "one line");
});

Deno.test("the installed etcd says its version", async () => {
  assert.match(await etcdVersion(), /^3\.\d+\.\d+/);
});
