/** `RpcError.from` reads an abort's reason as connect-es' `ConnectError.from` does; an error carries its response. */
import assert from "node:assert/strict";
import { RpcError } from "./errors.ts";

Deno.test("RpcError.from maps AbortError to canceled and TimeoutError to deadline_exceeded", () => {
  const aborted = RpcError.from(new DOMException("gone", "AbortError"));
  assert.equal(aborted.code, "canceled");
  assert.equal(aborted.httpStatus, 499);
  assert.equal(RpcError.from(AbortSignal.abort().reason).code, "canceled");
  const timedOut = RpcError.from(new DOMException("Signal timed out.", "TimeoutError"));
  assert.equal(timedOut.code, "deadline_exceeded");
  assert.equal(timedOut.httpStatus, 504);
  assert.ok(timedOut.cause instanceof DOMException, "the reason is kept as the cause");
  const error = new Error("late");
  error.name = "TimeoutError";
  assert.equal(
    RpcError.from(error, "unknown").code,
    "deadline_exceeded",
    "any Error by that name, not only DOMException",
  );
});

Deno.test("RpcError.from keeps an RpcError and hides a bug's details behind internal", () => {
  const known = new RpcError("not_found", "no order 42");
  assert.equal(RpcError.from(known), known);
  const bug = RpcError.from(new TypeError("x is undefined"));
  assert.equal(bug.code, "internal");
  assert.equal(bug.message, "internal error");
  assert.equal(RpcError.from("plain", "unavailable").message, "plain");
});

Deno.test("an error answers with its status and headers, as a Connect error or as {error: {code, message}}", async () => {
  const error = new RpcError("resource_exhausted", "request body exceeds 10 bytes", {
    status: 413,
    headers: { "Retry-After": "3" },
  });
  assert.equal(error.httpStatus, 413);
  const connect = error.toResponse();
  assert.equal(connect.status, 413);
  assert.equal(connect.headers.get("retry-after"), "3");
  assert.deepEqual(await connect.json(), { code: "resource_exhausted", message: "request body exceeds 10 bytes" });
  const json = error.toResponse("json");
  assert.equal(json.status, 413);
  assert.equal(json.headers.get("retry-after"), "3");
  assert.deepEqual(await json.json(), {
    error: { code: "resource_exhausted", message: "request body exceeds 10 bytes" },
  });
  assert.equal(new RpcError("not_found", "x").httpStatus, 404, "the code's status unless told otherwise");
});
