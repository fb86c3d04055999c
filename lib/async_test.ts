/** `timeoutSignal`: the deadline fires, linked signals pass their reason on, and disposing leaves nothing behind. */
import assert from "node:assert/strict";
import { delay, timeoutSignal } from "./async.ts";

Deno.test("timeoutSignal aborts with a TimeoutError when the time is up", async () => {
  using deadline = timeoutSignal(5);
  await delay(1000, { signal: deadline.signal }).catch(() => {});
  assert.ok(deadline.signal.aborted);
  assert.ok(deadline.timedOut);
  assert.equal(deadline.signal.reason.name, "TimeoutError");
});

Deno.test("timeoutSignal passes on a linked signal's reason, and is aborted at once by an aborted one", () => {
  const caller = new AbortController();
  using linked = timeoutSignal(60_000, { signals: [undefined, caller.signal] });
  assert.ok(!linked.signal.aborted);
  caller.abort(new Error("caller left"));
  assert.ok(linked.signal.aborted);
  assert.ok(!linked.timedOut);
  assert.equal(linked.signal.reason.message, "caller left");

  using late = timeoutSignal(60_000, { signals: [caller.signal] });
  assert.ok(late.signal.aborted, "a signal that already aborted aborts it when it is made");
  assert.equal(late.signal.reason.message, "caller left");
});

Deno.test("disposing of a timeoutSignal clears its timer and lets go of the linked signals", async () => {
  const caller = new AbortController();
  const finished = timeoutSignal(10, { signals: [caller.signal] });
  finished[Symbol.dispose]();
  await delay(40);
  assert.ok(!finished.signal.aborted, "the timer of a disposed signal never fires");
  caller.abort(new Error("after the work ended"));
  assert.ok(!finished.signal.aborted, "a disposed signal no longer follows the caller");
});

Deno.test("timeoutSignal without a time only links signals", async () => {
  using linked = timeoutSignal(undefined);
  await delay(5);
  assert.ok(!linked.signal.aborted);
});
