/**
 * An order's recorded event clocks held against the event graph: every pair
 * of the events a..f (all fifteen) must compare as `VALIDATION_GRAPH` derives
 * from `VALIDATION_EVENTS` (or as a test's own graph derives), so that an unrelated pair made ordered (a clock that
 * ticks another event's slot, say) is caught, not only a listed relation
 * broken. The in-memory checkout test, the end-to-end one and the chaos
 * suite's history checker all judge clocks with it.
 *
 * @module
 */
import { type EventGraph, VALIDATION_GRAPH } from "@bookstore/lib/contracts";
import { type ClockOrder, compare, type VectorClock } from "@bookstore/lib/vector_clock";

/** An event as an order's history records it (only the name and clock are read). */
export interface RecordedEvent {
  /** The event's name, `a` to `f`. */
  name: string;
  /** Its vector clock. */
  clock: VectorClock;
}

const expected = (x: string, y: string, order: ClockOrder) =>
  order === "before" ? `${x} before ${y}` : order === "after" ? `${y} before ${x}` : order;

/**
 * Each pair of recorded events whose clocks do not compare as the event
 * graph says (`VALIDATION_GRAPH` unless `graph` is given), in plain words
 * (e.g. `event b {…} and c {…} are before, not concurrent`); empty when every
 * pair does. Pairs with an event missing are skipped: whether every event ran
 * is a separate question.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clockFindings } from "./event_graph.ts";
 *
 * const b = { name: "b", clock: { "transaction_verification.user": 1 } };
 * const c = { name: "c", clock: { "transaction_verification.items": 2, "transaction_verification.user": 1 } };
 * assert.match(clockFindings([b, c])[0], /are before, not concurrent/);
 * ```
 */
export function clockFindings(events: Iterable<RecordedEvent>, graph: EventGraph = VALIDATION_GRAPH): string[] {
  const clocks = new Map<string, VectorClock>();
  for (const event of events) clocks.set(event.name, event.clock);
  const findings: string[] = [];
  for (const [i, x] of graph.names.entries()) {
    for (const y of graph.names.slice(i + 1)) {
      const cx = clocks.get(x);
      const cy = clocks.get(y);
      if (!cx || !cy) continue;
      const want = graph.order(x, y);
      const got = compare(cx, cy);
      if (got !== want) {
        findings.push(
          `event ${x} ${JSON.stringify(cx)} and ${y} ${JSON.stringify(cy)} are ${got}, not ${expected(x, y, want)}.`,
        );
      }
    }
  }
  return findings;
}
