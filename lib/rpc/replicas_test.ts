/**
 * Which replica calls start at, and what Deno's own `fetch` says when a
 * connection cannot be made and when it dies after the request went out (on
 * loopback: the classification rests on Deno's wording, which a new Deno
 * could change).
 */
import assert from "node:assert/strict";
import { connectionCut, connectionRefused } from "../../tests/support/replica_network.ts";
import { describeFetchFailure, isConnectFailure, ReplicaSet } from "./replicas.ts";

Deno.test("calls start at the replica that last answered, and move past one that failed once", () => {
  const replicas = new ReplicaSet(["http://127.0.0.1:1001", "http://127.0.0.1:1002", "http://127.0.0.1:1003"]);
  assert.deepEqual(replicas.tryOrder(), ["http://127.0.0.1:1001", "http://127.0.0.1:1002", "http://127.0.0.1:1003"]);
  replicas.answered("http://127.0.0.1:1003");
  assert.deepEqual(replicas.tryOrder(), ["http://127.0.0.1:1003", "http://127.0.0.1:1001", "http://127.0.0.1:1002"]);
  // Two calls both failed at 1003: the start moves past it once, not past 1001 as well.
  replicas.failed("http://127.0.0.1:1003");
  replicas.failed("http://127.0.0.1:1003");
  assert.equal(replicas.tryOrder()[0], "http://127.0.0.1:1001");
  // A failure of a replica calls no longer start at changes nothing.
  replicas.failed("http://127.0.0.1:1002");
  assert.equal(replicas.tryOrder()[0], "http://127.0.0.1:1001");
});

Deno.test("Deno's fetch: a refused connection is a connect failure, one closed after the request is not", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const refusing = `http://127.0.0.1:${closed.addr.port}/`;
  closed.close();
  const refused = await fetch(refusing, { method: "POST", body: "{}" }).catch((error) => error);
  assert.ok(refused instanceof TypeError, String(refused));
  assert.equal(isConnectFailure(refused), true, describeFetchFailure(refused));
  assert.match(describeFetchFailure(refused), /^client error \(Connect\).*refused/i);

  // A server that reads the request and closes the connection without answering.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    for await (const connection of listener) {
      await connection.read(new Uint8Array(4096));
      connection.close();
    }
  })();
  const cut = await fetch(`http://127.0.0.1:${listener.addr.port}/`, { method: "POST", body: "{}" }).catch((e) => e);
  listener.close();
  await serving.catch(() => {});
  assert.ok(cut instanceof TypeError, String(cut));
  assert.equal(isConnectFailure(cut), false, describeFetchFailure(cut));
  assert.doesNotMatch(describeFetchFailure(cut), /^error sending request/, "the URL is not repeated");
});

Deno.test("the test network's failures read as Deno's do", () => {
  assert.equal(isConnectFailure(connectionRefused("http://127.0.0.1:1001/")), true);
  assert.equal(isConnectFailure(connectionCut("http://127.0.0.1:1001/")), false);
  const reset = new Error("client error (SendRequest): Connection reset by peer (os error 104)");
  assert.equal(isConnectFailure(new TypeError("fetch failed", { cause: reset })), false, "a reset after sending");
  assert.equal(isConnectFailure(new Error("anything else")), false);
  assert.equal(describeFetchFailure(new Error("plain")), "plain");
});
