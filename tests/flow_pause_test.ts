/**
 * The chaos runner's measure of how long a flow stopped under a fault
 * (`support/flow.ts`), on made-up moments.
 */
import assert from "node:assert/strict";
import { describePause, flowPause } from "./support/flow.ts";

Deno.test("flowPause: from the last success before the strike to the first after it", () => {
  const flow = flowPause([900, 1000, 1250, 1900, 2000, 2100], { strikes: [1300], over: 2050 });
  assert.deepEqual(flow, {
    gaps: [{ last: -50, first: 600 }],
    longest: { from: -50, to: 600 },
    usual: 250,
    during: 2,
  });
  assert.equal(
    describePause("checkouts", flow),
    "checkouts: from the last before the strike to the first after it 650 ms (−50 ms to +600 ms); the longest pause " +
      "while the fault lasted 650 ms (−50 ms to +600 ms from the first strike); 2 during the fault; the longest " +
      "pause before it 250 ms",
  );
});

Deno.test("flowPause: a later, longer pause while the fault lasts is the longest; one after it is not the fault's", () => {
  // Successes in flight just after the strike, then the flow stops; after the fault is over, a pause of its own.
  const flow = flowPause([0, 100, 110, 120, 900, 1000, 5000], { strikes: [105], over: 950 });
  assert.deepEqual(flow.gaps, [{ last: -5, first: 5 }]);
  assert.deepEqual(flow.longest, { from: 15, to: 795 });
  assert.equal(flow.during, 3);
});

Deno.test("flowPause: several strikes, each measured from the last success before it", () => {
  const flow = flowPause([0, 100, 700, 800, 850, 1500], { strikes: [150, 820], over: 1600 });
  assert.deepEqual(flow.gaps, [{ last: -50, first: 550 }, { last: -20, first: 30 }]);
  assert.deepEqual(flow.longest, { from: 700, to: 1350 });
  assert.match(describePause("checkouts", flow), /before each strike to the first after it 600 ms .*, 50 ms /);
});

Deno.test("flowPause: nothing after the strike, nothing before it", () => {
  const none = flowPause([100, 200], { strikes: [300], over: 400 });
  assert.deepEqual(none, { gaps: [{ last: -100 }], longest: { from: -100 }, usual: 100, during: 0 });
  assert.match(describePause("executions", none), /none after it \(the last at −100 ms\); .* unended/);
  // Times in any order; with none before the strike the pause counts from the strike itself.
  const fresh = flowPause([700, 500], { strikes: [300], over: 600 });
  assert.deepEqual(fresh, { gaps: [{ last: 0, first: 200 }], longest: { from: 0, to: 200 }, usual: 0, during: 1 });
});
