/** The kit's one error handler: a Connect method's failure is a Connect error, any other endpoint's `{error: {code, message}}`. */
import assert from "node:assert/strict";
import { loadConfig } from "./config.ts";
import { suggestionsService } from "./contracts/mod.ts";
import { createLogger } from "./log.ts";
import { RpcError } from "./rpc/errors.ts";
import { createServiceKit } from "./service.ts";

function kit() {
  const config = loadConfig({ BOOKSTORE_SERVICE_TOKEN: "a-token-of-16-chars", BOOKSTORE_FAULTS: "1" });
  const kit = createServiceKit("suggestions", { config, log: createLogger("test", { write: () => {} }) });
  kit.rpc(suggestionsService, {
    InitOrder: () => ({}),
    Advance: () => ({}),
    CancelOrder: () => ({ clock: {}, events: [], consistent: true }),
    ClearOrder: () => ({ clock: {}, events: [], consistent: true }),
    Suggest: () => {
      throw new RpcError("unavailable", "the model is asleep");
    },
  });
  return kit.app;
}

const auth = { authorization: "Bearer a-token-of-16-chars", "content-type": "application/json" };

Deno.test("a Connect method answers a Connect error; the kit's other endpoints {error: {code, message}}", async () => {
  const app = kit();
  const rpc = await app.request("/bookstore.v1.SuggestionsService/Suggest", {
    method: "POST",
    headers: auth,
    body: '{"bookIds":[]}',
  });
  assert.equal(rpc.status, 503);
  assert.deepEqual(await rpc.json(), { code: "unavailable", message: "the model is asleep" });

  const missing = await app.request("/no/such/route");
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { error: { code: "not_found", message: "no route for GET /no/such/route" } });

  const anonymous = await app.request("/admin/faults");
  assert.equal(anonymous.status, 401);
  assert.equal((await anonymous.json()).error.code, "unauthenticated");
  const badPause = await app.request("/admin/pause", { method: "POST", headers: auth, body: '{"ms":-1}' });
  assert.equal(badPause.status, 400);
  const body = await badPause.json();
  assert.equal(body.error.code, "invalid_argument");
  assert.match(body.error.message, /ms/);
});
