import assert from "node:assert/strict";
import { RpcError } from "../../rpc/errors.ts";
import { EtcdClient, EtcdError } from "./client.ts";

const A = "http://127.0.0.1:1001";
const B = "http://127.0.0.1:1002";
const C = "http://127.0.0.1:1003";

type Behaviour =
  | "refuse"
  | "reset"
  | "hang"
  | "ok"
  | { status: number; body: unknown }
  | { afterMs: number; then: Behaviour };

/**
 * A fetch over members that each behave as told (their status probes as
 * `status` tells, else alike); it records every request but the probes.
 */
function fakeCluster(behaviours: Record<string, Behaviour>, status: Record<string, Behaviour> = {}) {
  const calls: string[] = [];
  const fake: typeof fetch = (input, init) => {
    const url = new URL(String(input));
    const member = url.origin;
    const probe = url.pathname === "/v3/maintenance/status";
    if (!probe) calls.push(member);
    return answer((probe ? status[member] : undefined) ?? behaviours[member], member, init);
  };
  const answer = (behaviour: Behaviour, member: string, init?: RequestInit): Promise<Response> => {
    if (behaviour === "refuse") {
      return Promise.reject(new TypeError("fetch failed", { cause: new Error("client error (Connect): refused") }));
    }
    if (behaviour === "reset") {
      return Promise.reject(
        new TypeError("fetch failed", { cause: new Error("client error (SendRequest): connection closed") }),
      );
    }
    if (behaviour === "hang") {
      return new Promise((_, reject) => {
        const signal = init?.signal;
        signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    }
    if (behaviour === "ok") {
      return Promise.resolve(Response.json({ header: { revision: "7", raft_term: "2" }, from: member }));
    }
    if ("afterMs" in behaviour) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve(answer(behaviour.then, member, init)), behaviour.afterMs);
        init?.signal?.addEventListener("abort", () => {
          clearTimeout(timer);
          reject(init.signal?.reason);
        }, { once: true });
      });
    }
    return Promise.resolve(Response.json(behaviour.body, { status: behaviour.status }));
  };
  return { fetch: fake, calls };
}

/** How `promise` failed; fails itself if it has not settled within 5 s (a broken deadline must not hang the suite). */
async function rejection(promise: Promise<unknown>): Promise<RpcError> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise((resolve) => timer = setTimeout(() => resolve(new Error("still pending after 5 s")), 5000));
  const error = await Promise.race([promise.then(() => undefined, (e) => e), hang]).finally(() => clearTimeout(timer));
  assert.ok(error instanceof RpcError, `expected an RpcError, got ${error}`);
  return error;
}

Deno.test("a refused connection moves the call to the next member, which is then asked first", async () => {
  const cluster = fakeCluster({ [A]: "refuse", [B]: "ok", [C]: "ok" });
  const client = new EtcdClient({ endpoints: [A, B, C], timeoutMs: 1000, fetch: cluster.fetch });
  assert.deepEqual(await client.call("kv/put", { body: {}, kind: "write" }), {
    header: { revision: "7", raft_term: "2" },
    from: B,
  });
  assert.deepEqual(await client.call("kv/range", { body: {}, kind: "read" }), {
    header: { revision: "7", raft_term: "2" },
    from: B,
  });
  assert.deepEqual(cluster.calls, [A, B, B]);
  assert.equal(client.preferred, B);
});

Deno.test("a write whose connection was lost after sending is not sent again: outcome unknown", async () => {
  const cluster = fakeCluster({ [A]: "reset", [B]: "ok" });
  const client = new EtcdClient({ endpoints: [A, B], timeoutMs: 1000, fetch: cluster.fetch });
  const error = await rejection(client.call("kv/txn", { body: {}, kind: "write" }));
  assert.equal(error.code, "unavailable");
  assert.match(error.message, /kv\/txn: outcome unknown/);
  assert.deepEqual(cluster.calls, [A]);
  // The next call starts at the other member.
  await client.call("kv/txn", { body: {}, kind: "write" });
  assert.deepEqual(cluster.calls, [A, B]);
});

Deno.test("a read whose connection was lost is asked again of the next member", async () => {
  const cluster = fakeCluster({ [A]: "reset", [B]: "ok" });
  const client = new EtcdClient({ endpoints: [A, B], timeoutMs: 1000, fetch: cluster.fetch });
  assert.deepEqual(await client.call("kv/range", { body: {}, kind: "read" }), {
    header: { revision: "7", raft_term: "2" },
    from: B,
  });
  assert.deepEqual(cluster.calls, [A, B]);
});

Deno.test("a read does not wait out a member that never answers: the next one is asked within the deadline", async () => {
  const cluster = fakeCluster({ [A]: "hang", [B]: "ok" });
  const client = new EtcdClient({ endpoints: [A, B], timeoutMs: 1000, fetch: cluster.fetch });
  const started = Date.now();
  assert.deepEqual(await client.call("kv/range", { body: {}, kind: "read" }), {
    header: { revision: "7", raft_term: "2" },
    from: B,
  });
  assert.ok(Date.now() - started < 1000, "B answered before the deadline");
  assert.deepEqual(cluster.calls, [A, B]);
});

Deno.test("past the deadline a call fails as unavailable, naming the operation, the members and the deadline", async () => {
  const cluster = fakeCluster({ [A]: "hang", [B]: "hang" });
  const client = new EtcdClient({ endpoints: [A, B], timeoutMs: 300, fetch: cluster.fetch });
  const started = Date.now();
  const read = await rejection(client.call("kv/range", { body: {}, kind: "read" }));
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 290 && elapsed < 1500, `${elapsed} ms`);
  assert.equal(read.code, "unavailable");
  assert.match(
    read.message,
    /kv\/range within 300 ms \(endpoints http:\/\/127\.0\.0\.1:1001, http:\/\/127\.0\.0\.1:1002\)/,
  );
  assert.doesNotMatch(read.message, /outcome unknown/);
  // A member that answers its status probes but not the write: the write waits out the deadline.
  const busy = new EtcdClient({
    endpoints: [A],
    timeoutMs: 300,
    fetch: fakeCluster({ [A]: "hang" }, { [A]: "ok" }).fetch,
  });
  const write = await rejection(busy.call("kv/put", { body: {}, kind: "write" }));
  assert.match(write.message, /kv\/put within 300 ms.*outcome unknown/);
});

Deno.test("a write whose member stops answering is given up early, outcome unknown, and not sent again", async () => {
  const cluster = fakeCluster({ [A]: "hang", [B]: "ok" });
  const client = new EtcdClient({ endpoints: [A, B], timeoutMs: 2000, fetch: cluster.fetch });
  const started = Date.now();
  const error = await rejection(client.call("kv/put", { body: {}, kind: "write" }));
  assert.ok(Date.now() - started < 1900, `the deadline is 2000 ms; gave up after ${Date.now() - started} ms`);
  assert.match(error.message, /outcome unknown.*did not answer two status probes/);
  assert.deepEqual(cluster.calls, [A]);
  assert.equal(client.preferred, B);
});

Deno.test("a write whose leader changed while it waited is given up early; a slow one on a steady leader is not", async () => {
  const behaviours: Record<string, Behaviour> = { [A]: "ok" };
  const newTerm = { status: 200, body: { header: { raft_term: "3" } } };
  const client = new EtcdClient({
    endpoints: [A],
    timeoutMs: 2000,
    fetch: fakeCluster(behaviours, { [A]: newTerm }).fetch,
  });
  await client.call("kv/range", { body: {}, kind: "read" });
  behaviours[A] = "hang";
  const started = Date.now();
  const error = await rejection(client.call("kv/put", { body: {}, kind: "write" }));
  assert.ok(Date.now() - started < 1900, `the deadline is 2000 ms; gave up after ${Date.now() - started} ms`);
  assert.match(error.message, /outcome unknown.*Raft term moved from 2 to 3/);

  const steady: Record<string, Behaviour> = { [A]: "ok" };
  const slow = new EtcdClient({ endpoints: [A], timeoutMs: 2000, fetch: fakeCluster(steady, { [A]: "ok" }).fetch });
  await slow.call("kv/range", { body: {}, kind: "read" });
  steady[A] = { afterMs: 900, then: "ok" };
  assert.deepEqual(await slow.call("kv/put", { body: {}, kind: "write" }), {
    header: { revision: "7", raft_term: "2" },
    from: A,
  });
});

Deno.test("one status probe missed (a busy machine) does not give a write up; two in a row do", async () => {
  let probes = 0;
  // The first probe goes unanswered, every later one answers: the member was slow, not gone.
  const status = {
    get [A](): Behaviour {
      return probes++ === 0 ? "hang" : "ok";
    },
  };
  const client = new EtcdClient({
    endpoints: [A],
    timeoutMs: 2000,
    fetch: fakeCluster({ [A]: { afterMs: 1700, then: "ok" } }, status).fetch,
  });
  await client.call("kv/range", { body: {}, kind: "read" }).catch(() => {});
  assert.deepEqual(await client.call("kv/put", { body: {}, kind: "write" }), {
    header: { revision: "7", raft_term: "2" },
    from: A,
  });
  assert.ok(probes >= 2, `probed ${probes} times`);
});

Deno.test("a write that timed out moves the next call to another member", async () => {
  const cluster = fakeCluster({ [A]: "hang", [B]: "ok" });
  const client = new EtcdClient({ endpoints: [A, B], timeoutMs: 150, fetch: cluster.fetch });
  await rejection(client.call("kv/put", { body: {}, kind: "write" }));
  assert.deepEqual(cluster.calls, [A]);
  await client.call("kv/put", { body: {}, kind: "write" });
  assert.deepEqual(cluster.calls, [A, B]);
});

Deno.test("when every member refuses, the call keeps trying until the deadline, then fails (nothing was sent)", async () => {
  const cluster = fakeCluster({ [A]: "refuse", [B]: "refuse" });
  const client = new EtcdClient({ endpoints: [A, B], timeoutMs: 300, fetch: cluster.fetch });
  const error = await rejection(client.call("kv/put", { body: {}, kind: "write" }));
  assert.equal(error.code, "unavailable");
  assert.doesNotMatch(error.message, /outcome unknown/);
  assert.match(error.message, /refused/);
  assert.ok(cluster.calls.length > 2, "a member restarting within the deadline would have been found");
});

Deno.test("etcd's errors are clear errors with their gRPC code; a member without a leader is passed over", async () => {
  const noLeader = {
    status: 503,
    body: { error: "etcdserver: no leader", message: "etcdserver: no leader", code: 14 },
  };
  const tooMany = {
    status: 400,
    body: { error: "etcdserver: too many operations in txn request", code: 3 },
  };
  const timedOut = { status: 503, body: { message: "etcdserver: request timed out", code: 14 } };
  const cluster = fakeCluster({ [A]: noLeader, [B]: "ok", [C]: tooMany });
  const client = new EtcdClient({ endpoints: [A, B], timeoutMs: 1000, fetch: cluster.fetch });
  await client.call("kv/put", { body: {}, kind: "write" });
  assert.deepEqual(cluster.calls, [A, B]);

  const invalid = new EtcdClient({ endpoints: [C], timeoutMs: 1000, fetch: cluster.fetch });
  const error = await rejection(invalid.call("kv/txn", { body: {}, kind: "write" }));
  assert.ok(error instanceof EtcdError);
  assert.equal(error.grpcCode, 3);
  assert.equal(error.code, "invalid_argument");
  assert.match(error.message, /etcd kv\/txn at http:\/\/127\.0\.0\.1:1003 failed: etcdserver: too many operations/);

  const ambiguous = new EtcdClient({
    endpoints: [A],
    timeoutMs: 1000,
    fetch: fakeCluster({ [A]: timedOut, [B]: "ok" }).fetch,
  });
  const unknown = await rejection(ambiguous.call("kv/txn", { body: {}, kind: "write" }));
  assert.equal(unknown.code, "unavailable");
  assert.match(unknown.message, /outcome unknown.*request timed out/);
});

Deno.test("the caller's signal and close() end a pending call as canceled", async () => {
  const cluster = fakeCluster({ [A]: "hang" });
  const client = new EtcdClient({ endpoints: [A], timeoutMs: 10_000, fetch: cluster.fetch });
  const controller = new AbortController();
  const aborted = rejection(client.call("kv/range", { body: {}, kind: "read", signal: controller.signal }));
  controller.abort();
  assert.equal((await aborted).code, "canceled");
  const pending = rejection(client.call("kv/range", { body: {}, kind: "read" }));
  client.close();
  const closed = await pending;
  assert.equal(closed.code, "canceled");
  assert.match(closed.message, /closed/);
  assert.equal((await rejection(client.call("kv/range", { body: {}, kind: "read" }))).code, "canceled");
});

Deno.test("against a real socket that accepts and never answers, the deadline holds", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  const client = new EtcdClient({
    endpoints: [`http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`],
    timeoutMs: 300,
  });
  const started = Date.now();
  const error = await rejection(client.call("kv/range", { body: {}, kind: "read" }));
  assert.equal(error.code, "unavailable");
  assert.ok(Date.now() - started < 2000);
  listener.close();
  for (const conn of held) conn.close();
  await accepting.catch(() => {});
});
