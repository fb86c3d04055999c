import assert from "node:assert/strict";
import { serveControl } from "./control.ts";

const TOKEN = "a-service-token-of-some-length";

Deno.test("the control endpoint crashes only the processes it was given, only for the credential, only by POST", async () => {
  const killed: string[] = [];
  await using control = serveControl({
    token: TOKEN,
    crashable: ["etcd1", "etcd2"],
    kill: (name) => killed.push(name),
  });
  assert.match(control.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const call = async (path: string, init: { method?: string; token?: string } = {}) => {
    const response = await fetch(`${control.url}${path}`, {
      method: init.method ?? "POST",
      headers: init.token === undefined ? {} : { authorization: `Bearer ${init.token}` },
    });
    await response.body?.cancel();
    return response.status;
  };
  assert.equal(await call("/processes/etcd2/crash"), 401, "no credential");
  assert.equal(await call("/processes/etcd2/crash", { token: "x".repeat(TOKEN.length) }), 401, "a wrong credential");
  assert.equal(await call("/processes/web/crash", { token: TOKEN }), 404, "not a crashable process");
  assert.equal(await call("/processes/etcd2/crash", { token: TOKEN, method: "GET" }), 404);
  assert.equal(await call("/processes/etcd2/pause", { token: TOKEN }), 404);
  assert.deepEqual(killed, []);
  assert.equal(await call("/processes/etcd2/crash", { token: TOKEN }), 202);
  assert.deepEqual(killed, ["etcd2"]);
});
