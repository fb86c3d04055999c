import assert from "node:assert/strict";
import { loadCatalog } from "@bookstore/lib/catalog";
import { loadConfig } from "@bookstore/lib/config";
import { createShopApi } from "./shop_api.ts";

const TOKEN = "a-service-token-of-some-length";

/** The shop API on a `fetch` that records every request and answers as the system would. */
function shopOn(answer: (request: Request) => Response) {
  const config = loadConfig({ BOOKSTORE_SERVICE_TOKEN: TOKEN, ORCHESTRATOR_URL: "http://127.0.0.1:7081" });
  const requests: Request[] = [];
  const shop = createShopApi({
    config,
    catalog: loadCatalog(),
    fetch: (input, init) => {
      const request = new Request(input, init);
      requests.push(request);
      return answer(request);
    },
  });
  return { shop, requests, config };
}

Deno.test("the shop reaches every service where the configuration says, through the fetch it is given", async () => {
  const { shop, requests, config } = shopOn((request) => {
    const path = new URL(request.url).pathname;
    if (path === "/cluster") {
      return Response.json({
        executors: [{ id: 1, url: "http://127.0.0.1:50061", reachable: false, error: "refused" }],
        queue: { reachable: false, error: "refused" },
        queueReplicas: [{ replica: 1, url: "http://127.0.0.1:50055", reachable: false, error: "refused" }],
        store: { kind: "kv" },
      });
    }
    if (path.endsWith("/ListBooks")) return Response.json({ books: [] });
    return new Response(null, { status: 202 });
  });
  const cluster = await shop.cluster();
  assert.deepEqual(cluster.executors.map((r) => r.reachable), [false]);
  assert.deepEqual(await shop.books(), []);
  await shop.crashReplica(4);
  await shop.setValidatorFault("fraud_detection", "clear");
  await shop.crashQueueReplica(1);

  const seen = requests.map((r) => `${r.method} ${r.url}`);
  assert.deepEqual(seen, [
    "GET http://127.0.0.1:7081/cluster",
    "POST http://127.0.0.1:7081/bookstore.v1.CheckoutService/ListBooks",
    `POST ${config.executor.peers.get(4)}/admin/crash`,
    `DELETE ${config.urls.fraudDetection}/admin/faults`,
    `POST ${config.urls.orderQueue[0]}/admin/crash`,
  ]);
  assert.equal(requests[2].headers.get("authorization"), `Bearer ${TOKEN}`, "admin calls carry the credential");
  assert.equal(requests[1].headers.get("authorization"), null, "the public checkout service gets none");
});

Deno.test("a cluster view that does not hold to its contract is refused, not shown", async () => {
  const { shop } = shopOn(() =>
    Response.json({ executors: [{ id: 1, url: "u", reachable: true }], queue: { reachable: false, error: "" } })
  );
  await assert.rejects(() => shop.cluster());
});

Deno.test("an etcd member is crashed through the supervisor that runs it, and only where there is one", async () => {
  const supervised = loadConfig({
    BOOKSTORE_SERVICE_TOKEN: TOKEN,
    BOOKSTORE_STORE: "etcd",
    BOOKSTORE_SUPERVISOR_URL: "http://127.0.0.1:7999",
  });
  const requests: Request[] = [];
  const shop = createShopApi({
    config: supervised,
    catalog: loadCatalog(),
    fetch: (input, init) => {
      const request = new Request(input, init);
      requests.push(request);
      const known = request.url.endsWith("/processes/etcd2/crash");
      return Promise.resolve(new Response(null, { status: known ? 202 : 404 }));
    },
  });
  await shop.crashEtcdMember("etcd2");
  assert.deepEqual(requests.map((r) => `${r.method} ${r.url}`), ["POST http://127.0.0.1:7999/processes/etcd2/crash"]);
  assert.equal(requests[0].headers.get("authorization"), `Bearer ${TOKEN}`);
  await assert.rejects(
    () => shop.crashEtcdMember("web"),
    (error: Error & { code?: string }) => error.code === "not_found",
  );
  await assert.rejects(() => shop.crashQueueReplica(3), /no order queue replica 3/);

  const { shop: unsupervised, requests: none } = shopOn(() => new Response(null, { status: 202 }));
  await assert.rejects(() => unsupervised.crashEtcdMember("etcd1"), /no supervisor runs the processes/);
  assert.deepEqual(none, [], "nothing was sent");
});

Deno.test("with a supervisor that runs hosts, the cluster has them; one without hosts is asked once", async () => {
  const HOSTS = {
    hosts: [{ name: "order_executor_1", address: "127.77.1.1", cutFrom: [] }],
    partitionable: ["order_executor_1"],
  };
  const CLUSTER = { executors: [], queue: { reachable: false, error: "x" }, queueReplicas: [], store: { kind: "kv" } };
  const shopWith = (status: number) => {
    let hostsStatus = status;
    const requests: Request[] = [];
    const shop = createShopApi({
      config: loadConfig({
        BOOKSTORE_SERVICE_TOKEN: TOKEN,
        ORCHESTRATOR_URL: "http://127.0.0.1:7081",
        BOOKSTORE_SUPERVISOR_URL: "http://127.0.0.1:7999",
      }),
      catalog: loadCatalog(),
      fetch: (input, init) => {
        const request = new Request(input, init);
        requests.push(request);
        const path = new URL(request.url).pathname;
        if (path === "/cluster") return Promise.resolve(Response.json(CLUSTER));
        if (path === "/hosts") return Promise.resolve(Response.json(HOSTS, { status: hostsStatus }));
        return Promise.resolve(new Response(null, { status: 202 }));
      },
    });
    return { shop, requests, fail: () => hostsStatus = 500 };
  };
  const { shop, requests, fail } = shopWith(200);
  assert.deepEqual((await shop.cluster()).hosts, HOSTS);
  const asked = requests.find((r) => r.url.endsWith("/hosts"))!;
  assert.equal(asked.headers.get("authorization"), `Bearer ${TOKEN}`, "the supervisor is asked with the credential");
  fail();
  assert.deepEqual((await shop.cluster()).hosts, HOSTS, "a failed read keeps the hosts last read");
  await shop.partitionHost("order_executor_1");
  await shop.partitionHost("order_executor_2", { from: "all" });
  await shop.healLinks();
  const posts = requests.filter((r) => r.method === "POST");
  assert.deepEqual(posts.map((r) => r.url), [
    "http://127.0.0.1:7999/partition",
    "http://127.0.0.1:7999/partition",
    "http://127.0.0.1:7999/heal",
  ]);
  assert.deepEqual(await posts[0].json(), { host: "order_executor_1", from: "group" });
  assert.deepEqual(await posts[1].json(), { host: "order_executor_2", from: "all" });

  const { shop: oneMachine, requests: seen } = shopWith(404);
  assert.equal((await oneMachine.cluster()).hosts, undefined);
  assert.equal((await oneMachine.cluster()).hosts, undefined);
  assert.equal(seen.filter((r) => r.url.endsWith("/hosts")).length, 1, "a supervisor without hosts is asked once");
});
