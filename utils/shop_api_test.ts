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

  const seen = requests.map((r) => `${r.method} ${r.url}`);
  assert.deepEqual(seen, [
    "GET http://127.0.0.1:7081/cluster",
    "POST http://127.0.0.1:7081/bookstore.v1.CheckoutService/ListBooks",
    `POST ${config.executor.peers.get(4)}/admin/crash`,
    `DELETE ${config.urls.fraudDetection}/admin/faults`,
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
