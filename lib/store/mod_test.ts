import { OPEN_TIMEOUT_MS } from "./etcd/kv.ts";
import assert from "node:assert/strict";
import { loadConfig } from "../config.ts";
import { freePorts } from "../free_ports.ts";
import { startEtcdCluster } from "./etcd/testing.ts";
import { openStore } from "./mod.ts";

Deno.test("with BOOKSTORE_STORE=etcd a service's store is its prefix bookstore/<name>/ of the cluster", async () => {
  await using cluster = await startEtcdCluster({ members: 1 });
  const config = loadConfig({ BOOKSTORE_STORE: "etcd", BOOKSTORE_ETCD_ENDPOINTS: cluster.endpoints.join(",") });
  const orders = await openStore(config, "orchestrator");
  const stock = await openStore(config, "order_queue");
  try {
    await orders.set(["order", "o1"], "placed");
    assert.equal((await stock.get(["order", "o1"])).value, null);
    assert.equal((await orders.get(["order", "o1"])).value, "placed");
  } finally {
    orders.close();
    stock.close();
  }
  const raw = await fetch(`${cluster.endpoints[0]}/v3/kv/range`, {
    method: "POST",
    body: JSON.stringify({ key: btoa("bookstore/"), range_end: btoa("bookstore0") }),
  }).then((response) => response.json());
  assert.deepEqual(raw.kvs.map((kv: { key: string }) => atob(kv.key).slice(0, "bookstore/orchestrator/".length)), [
    "bookstore/orchestrator/",
  ]);
});

Deno.test("an etcd cluster that does not answer is asked again, then a clear start-up error within the deadline, never a hang", async () => {
  const [closed] = freePorts(1);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  const silent = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  const endpoints = `http://127.0.0.1:${closed},${silent}`;
  const config = loadConfig({
    BOOKSTORE_STORE: "etcd",
    BOOKSTORE_ETCD_ENDPOINTS: endpoints,
    BOOKSTORE_ETCD_TIMEOUT_MS: "500",
  });
  const started = Date.now();
  await assert.rejects(openStore(config, "orchestrator"), (error: Error) => {
    assert.match(error.message, new RegExp(`etcd cluster at ${endpoints} did not answer within ${OPEN_TIMEOUT_MS} ms`));
    assert.match(error.message, /BOOKSTORE_ETCD_ENDPOINTS/);
    return true;
  });
  assert.ok(Date.now() - started < OPEN_TIMEOUT_MS + 3000);
  assert.ok(held.length >= 2, `the silent member was asked again (${held.length} connections)`);
  listener.close();
  for (const conn of held) conn.close();
  await accepting.catch(() => {});
});
