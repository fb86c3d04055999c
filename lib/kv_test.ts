/** The optimistic-commit loop: contention that never clears is a transient `unavailable`, not a lost lease. */
import assert from "node:assert/strict";
import { commitWithRetry, RETRY } from "./kv.ts";
import { isPeerFailure, type RpcError } from "./rpc/errors.ts";

Deno.test("too many lost races give up with unavailable, which a client retries, not aborted", async () => {
  let attempts = 0;
  const error: RpcError = await commitWithRetry(() => {
    attempts += 1;
    return Promise.resolve(RETRY);
  }, { attempts: 3, what: "dequeue" }).then(() => assert.fail("it should give up"), (error) => error);
  assert.equal(error.code, "unavailable");
  assert.match(error.message, /dequeue lost too many races/);
  assert.ok(isPeerFailure(error), "clients retry it");
  assert.notEqual(error.code, "aborted", "not mistaken for a lost lease");
  assert.equal(attempts, 3);
});
