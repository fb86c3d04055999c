/**
 * The admin and API routes' guards, on the real routes in memory: only the
 * shop's configured origin and its loopback aliases, by `Host` and by
 * `Origin`, so a DNS-rebinding page cannot drive them.
 */
import assert from "node:assert/strict";
import { createLogger } from "@bookstore/lib/log";
import manifest from "../fresh.gen.ts";
import { createWebApp, routePattern } from "../web/server.ts";
import { originAliases } from "@bookstore/lib/origins";
import { fakeShop } from "./fake_shop.ts";
import type { State } from "./state.ts";

function shopApp(state: Partial<State> = {}) {
  const shop = fakeShop({ faults: true, origin: "http://localhost:8000", ...state });
  const app = createWebApp(manifest, {
    state: shop.state,
    bundle: { code: "", hash: "test" },
    log: createLogger("web-test", { level: "error" }),
  });
  return { app, ...shop };
}

const crash = (origin: string | undefined) => ({
  method: "POST",
  headers: { "content-type": "application/json", ...(origin ? { origin } : {}) },
  body: "{}",
});

Deno.test("a DNS-rebinding page (its own name, pointed at 127.0.0.1) cannot crash a replica", async () => {
  const { app, actions } = shopApp();
  const attacker = "http://attacker.example:8000";
  const response = await app.request(`${attacker}/admin/replicas/4/crash`, crash(attacker));
  assert.equal(response.status, 403);
  assert.equal(response.headers.get("content-type"), "application/json", "a JSON endpoint answers errors in JSON");
  const body = await response.json();
  assert.equal(body.error.code, "permission_denied");
  assert.match(body.error.message, /Host "attacker.example:8000" is not the shop's address/);
  assert.deepEqual(actions, [], "nothing was crashed");
});

Deno.test("every admin and API route refuses a request addressed to another host", async () => {
  const { app, actions } = shopApp();
  const params: Record<string, string> = {
    replicaId: "4",
    action: "crash",
    name: "suggestions",
    orderId: "o-1",
    replica: "2",
    member: "etcd1",
  };
  // Every route file, not the folders' _middleware.ts that guard them.
  const guarded = Object.keys(manifest.routes).filter((path) => !/\/_[^/]*$/.test(path)).map(routePattern)
    .filter((p) => /^\/(admin|api)(\/|$)/.test(p));
  assert.ok(guarded.length >= 4, `the admin and API routes: ${guarded.join(", ")}`);
  for (const pattern of guarded) {
    const path = pattern.replace(/:(\w+)/g, (_, name) => params[name]);
    const admin = pattern.startsWith("/admin");
    const init = admin ? { ...crash(undefined), body: '{"mode":"fail","seconds":1}' } : {};
    const response = await app.request(`http://attacker.example:8000${path}`, init);
    assert.equal(response.status, 403, `${path} answered ${response.status}`);
    await response.body?.cancel();
  }
  assert.deepEqual(actions, []);
});

Deno.test("the shop's own origin and its loopback aliases are served; another origin or port is refused", async () => {
  const { app, actions } = shopApp();
  for (const origin of originAliases("http://localhost:8000")) {
    const response = await app.request(`${origin}/admin/replicas/4/crash`, crash(origin));
    assert.equal(response.status, 202, origin);
    const books = await app.request(`${origin}/api/books?q=dune`);
    assert.equal(books.status, 200, origin);
    assert.ok((await books.json()).books.length > 0);
  }
  assert.equal((await app.request("http://localhost:8000/admin/replicas/4/crash", crash(undefined))).status, 202);
  assert.deepEqual(actions, ["crash 4", "crash 4", "crash 4", "crash 4"]);

  for (const origin of ["https://evil.example", "http://localhost:9999", "http://attacker.example:8000", "null"]) {
    const response = await app.request("http://localhost:8000/admin/replicas/4/crash", crash(origin));
    assert.equal(response.status, 403, origin);
    const books = await app.request("http://localhost:8000/api/books", { headers: { origin } });
    assert.equal(books.status, 403, origin);
    await books.body?.cancel();
  }
  const otherPort = await app.request("http://localhost:9999/api/books");
  assert.equal(otherPort.status, 403, "a loopback alias is only one on the shop's port");
  assert.equal(actions.length, 4, "nothing more was crashed");
});

Deno.test("a shop configured off loopback answers only its own name", async () => {
  const { app } = shopApp({ origin: "https://shop.example" });
  assert.equal((await app.request("http://shop.example/api/books")).status, 200);
  assert.equal((await app.request("http://localhost:8000/api/books")).status, 403);
});

Deno.test("pages stay reachable whatever the host; with faults off the admin routes do not exist", async () => {
  const { app, actions } = shopApp({ faults: false });
  assert.equal((await app.request("http://attacker.example:8000/cart")).status, 200);
  const response = await app.request("http://localhost:8000/admin/replicas/4/crash", crash("http://localhost:8000"));
  assert.equal(response.status, 404);
  assert.deepEqual(actions, []);
});

Deno.test("over a real socket, the request's Host header is what the guard sees", async () => {
  const { state, actions } = fakeShop({ faults: true });
  const app = createWebApp(manifest, {
    state,
    bundle: { code: "", hash: "test" },
    log: createLogger("web-test", { level: "error" }),
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
  const { port } = server.addr;
  state.origin = `http://localhost:${port}`;
  const post = async (host: string) => {
    const socket = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      const request = `POST /admin/replicas/4/crash HTTP/1.1\r\nHost: ${host}\r\nOrigin: http://${host}\r\n` +
        "Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
      await socket.write(new TextEncoder().encode(request));
      const answer = await new Response(socket.readable).text();
      return Number(/^HTTP\/1\.1 (\d+)/.exec(answer)?.[1]);
    } catch (error) {
      socket.close();
      throw error;
    }
  };
  try {
    assert.equal(await post(`attacker.example:${port}`), 403, "the rebinding page's own name");
    assert.deepEqual(actions, []);
    assert.equal(await post(`127.0.0.1:${port}`), 202, "the shop by a loopback alias");
    assert.deepEqual(actions, ["crash 4"]);
  } finally {
    await server.shutdown();
  }
});

Deno.test("every error of the /api and /admin routes is {error: {code, message}} with its HTTP status", async () => {
  const { app, state, actions } = shopApp();
  const shop = "http://localhost:8000";
  const admin = (path: string, init: { body?: string; type?: string } = {}) =>
    app.request(`${shop}${path}`, {
      method: "POST",
      headers: { "content-type": init.type ?? "application/json", origin: shop },
      body: init.body ?? "{}",
    });
  state.shop.books = () => Promise.reject(new TypeError("connection refused"));
  const cases: [Response | Promise<Response>, number, string, RegExp][] = [
    [admin("/admin/replicas/4/crash", { type: "text/plain" }), 415, "invalid_argument", /admin requests must be JSON/],
    [admin("/admin/replicas/4/crash", { body: "{" }), 400, "invalid_argument", /not valid JSON/],
    [admin("/admin/replicas/4/pause", { body: '{"seconds":99}' }), 400, "invalid_argument", /seconds: a number/],
    [admin("/admin/replicas/zero/crash"), 404, "not_found", /no replica "zero"/],
    [admin("/admin/replicas/4/explode"), 404, "not_found", /no action "explode"/],
    [admin("/admin/validators/nobody", { body: '{"mode":"fail"}' }), 404, "not_found", /no validator "nobody"/],
    [admin("/admin/validators/suggestions", { body: '{"mode":"nap"}' }), 400, "invalid_argument", /mode: one of/],
    [app.request(`${shop}/api/orders/o-1`), 404, "not_found", /no such order/],
    [app.request(`${shop}/api/books`), 503, "unavailable", /catalog is unavailable/],
    [app.request(`${shop}/api/books`, { method: "DELETE" }), 405, "unimplemented", /DELETE is not allowed here/],
  ];
  for (const [answer, status, code, message] of cases) {
    const response = await answer;
    const body = await response.json();
    assert.equal(response.status, status, JSON.stringify(body));
    assert.equal(response.headers.get("content-type"), "application/json");
    assert.deepEqual(Object.keys(body), ["error"]);
    assert.equal(body.error.code, code);
    assert.match(body.error.message, message);
  }
  assert.deepEqual(actions, [], "nothing was done");

  const { app: off } = shopApp({ faults: false });
  const missing = await off.request(`${shop}/admin/replicas/4/crash`, crash(shop));
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), {
    error: { code: "not_found", message: "no page at /admin/replicas/4/crash" },
  });
});

Deno.test("a queue replica and an etcd member are crashed from the shop's own pages, an etcd member only when supervised", async () => {
  const own = crash("http://localhost:8000");
  const supervised = shopApp({ crashesEtcd: true });
  assert.equal((await supervised.app.request("http://localhost:8000/admin/queue_replicas/2/crash", own)).status, 202);
  assert.equal((await supervised.app.request("http://localhost:8000/admin/etcd_members/etcd1/crash", own)).status, 202);
  const odd = await supervised.app.request("http://localhost:8000/admin/queue_replicas/none/crash", own);
  assert.equal(odd.status, 404);
  await odd.body?.cancel();
  assert.deepEqual(supervised.actions, ["crash queue 2", "crash etcd1"]);

  const existing = shopApp({ crashesEtcd: false });
  const response = await existing.app.request("http://localhost:8000/admin/etcd_members/etcd1/crash", own);
  assert.equal(response.status, 404, "no supervisor runs the members of an existing cluster");
  await response.body?.cancel();
  const off = shopApp({ faults: false, crashesEtcd: true });
  const closed = await off.app.request("http://localhost:8000/admin/queue_replicas/1/crash", own);
  assert.equal(closed.status, 404, "with faults off the routes do not exist");
  await closed.body?.cancel();
  assert.deepEqual([...existing.actions, ...off.actions], []);
});
