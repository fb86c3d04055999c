import assert from "node:assert/strict";
import { renderToString } from "preact-render-to-string";
import type { ValidationEvent } from "@bookstore/lib/contracts";
import { deriveMessages, placeEvents, SpaceTimeDiagram } from "./space_time_diagram.tsx";

const event = (name: string, clock: number[], ok = true): ValidationEvent => ({
  name,
  service: "",
  clock: Object.fromEntries(
    ["transaction_verification.items", "transaction_verification.user", "fraud_detection", "suggestions"]
      .map((process, i) => [process, clock[i]]),
  ),
  time: "2026-11-23T00:00:00Z",
  ok,
  detail: ok ? "" : "fraud risk 90/100 is too high",
});

const approved = [
  event("a", [1, 0, 0, 0]),
  event("b", [0, 1, 0, 0]),
  event("c", [2, 0, 0, 0]),
  event("d", [0, 1, 1, 0]),
  event("e", [2, 1, 2, 0]),
  event("f", [2, 1, 2, 1]),
];

Deno.test("events are placed in causal columns: a ‖ b, then c ‖ d, then e, then f", () => {
  const columns = Object.fromEntries(placeEvents(approved).map((p) => [p.event.name, p.rank]));
  assert.deepEqual(columns, { a: 1, b: 1, c: 2, d: 2, e: 3, f: 4 });
});

Deno.test("messages are derived from the clocks: only direct causes on other processes", () => {
  const messages = deriveMessages(placeEvents(approved)).map((m) => `${m.from}→${m.to}`).sort();
  assert.deepEqual(messages, ["b→d", "c→e", "e→f"]);
});

Deno.test("a rejected order shows where it stopped", () => {
  const html = renderToString(
    <SpaceTimeDiagram events={[...approved.slice(0, 4), event("e", [2, 1, 2, 0], false)]} approved={false} />,
  );
  assert.match(html, /class="event failed" data-event="e"/);
  assert.match(html, /stopped here/);
  assert.match(html, /failed: fraud risk 90\/100 is too high/);
});

Deno.test("InitOrder reaches every validation process, suggestions included", () => {
  const html = renderToString(<SpaceTimeDiagram events={approved} approved />);
  assert.equal(html.match(/class="message init"/g)?.length, 4, "one InitOrder arrow per process lane");
});
