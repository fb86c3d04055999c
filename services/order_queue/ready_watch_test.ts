/** The watch of the ready count: each change wakes the polls; a failed watch is started again; disposing stops it. */
import assert from "node:assert/strict";
import { waitFor } from "@bookstore/lib/async";
import type { Kv } from "@bookstore/lib/store";
import { ReadySignal } from "./context.ts";
import { watchReady } from "./ready_watch.ts";
import { silent } from "./testing.ts";

Deno.test("a watch wakes the polls on every change, is started again when it fails, and stops when disposed of", async () => {
  const ready = new ReadySignal();
  const streams: { controller: ReadableStreamDefaultController<unknown>; canceled: boolean }[] = [];
  // A store whose first watch breaks at once; the next one reports what the test sends it.
  const kv = {
    watch: () => {
      const stream = { controller: undefined as unknown as ReadableStreamDefaultController<unknown>, canceled: false };
      streams.push(stream);
      return new ReadableStream({
        start(controller) {
          stream.controller = controller;
          if (streams.length === 1) controller.error(new Error("the connection was cut"));
        },
        cancel() {
          stream.canceled = true;
        },
      });
    },
  } as unknown as Kv;
  const watch = watchReady(kv, { ready, log: silent, retryMs: 1 });
  await waitFor(() => streams.length === 2, 5000, { step: 1 });
  assert.equal(ready.generation, 0, "a broken watch wakes nobody");
  streams[1].controller.enqueue([]);
  await waitFor(() => ready.generation === 1, 5000, { step: 1 });
  streams[1].controller.enqueue([]);
  await waitFor(() => ready.generation === 2, 5000, { step: 1 });
  watch[Symbol.dispose]();
  assert.equal(streams[1].canceled, true, "disposing cancels the watch");
});
