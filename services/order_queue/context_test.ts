/** The ready signal: a waiting poll wakes on the next wake-up or when its signal aborts, never later. */
import assert from "node:assert/strict";
import { ReadySignal } from "./context.ts";

Deno.test("a wait ends at the next wake-up, which is counted", async () => {
  const ready = new ReadySignal();
  const waiting = ready.wait(new AbortController().signal);
  ready.wake();
  await waiting;
  assert.equal(ready.generation, 1);
});

Deno.test("a wait ends when its signal aborts, and at once if it already has", async () => {
  const ready = new ReadySignal();
  const over = new AbortController();
  const waiting = ready.wait(over.signal);
  over.abort();
  await waiting;
  await ready.wait(over.signal);
  assert.equal(ready.generation, 0, "no wake-up was needed");
});
