import assert from "node:assert/strict";
import { eventually } from "../tests/support/wait.ts";
import { FakeEventSource } from "./fake_event_source.ts";
import { EVENT_SOURCE_CLOSED, liveEvents } from "./live_events.ts";

function open() {
  FakeEventSource.opened = [];
  const seen: string[] = [];
  const close = liveEvents("/cluster/events", {
    EventSource: FakeEventSource,
    on: { cluster: () => seen.push("cluster"), error: () => seen.push("error") },
    reopenMs: 5,
  });
  return { close, seen };
}

Deno.test("a refused stream (the browser gave up) is opened again; a dropped one is left to the browser", async () => {
  const { close, seen } = open();
  const [first] = FakeEventSource.opened;
  assert.equal(first.url, "/cluster/events");
  first.emit("cluster");
  first.emit("error"); // dropped: the browser reconnects by itself
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(FakeEventSource.opened.length, 1, "no second stream while the browser reconnects");

  first.readyState = EVENT_SOURCE_CLOSED;
  first.emit("error"); // refused: 429 or 503
  await eventually(() => FakeEventSource.opened.length === 2, { timeoutMs: 5000, message: "the stream opened again" });
  const [, second] = FakeEventSource.opened;
  second.emit("cluster");
  assert.deepEqual(seen, ["cluster", "error", "error", "cluster"], "the listeners follow the new stream");
  close();
  assert.ok(second.closed);
});

Deno.test("closing while a refused stream waits to be opened again opens nothing more", async () => {
  const { close } = open();
  const [first] = FakeEventSource.opened;
  first.readyState = EVENT_SOURCE_CLOSED;
  first.emit("error");
  close();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(FakeEventSource.opened.length, 1);
});
