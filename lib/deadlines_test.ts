/** The process's deadline queue: deadlines fire in order, cancelled ones never, and the heap does not grow without bound. */
import assert from "node:assert/strict";
import { delay } from "./async.ts";
import { DeadlineQueue, MAX_TIMER_DELAY_MS } from "./deadlines.ts";

Deno.test("deadlines fire in time order, and a cancelled one never fires", () => {
  let now = 1000;
  const queue = new DeadlineQueue({ now: () => now });
  const fired: string[] = [];
  for (const [name, ms] of [["c", 30], ["a", 10], ["e", 50], ["b", 20], ["d", 40]] as const) {
    const deadline = queue.schedule(ms, () => fired.push(name));
    if (name === "d") deadline.cancel();
  }
  now += 25;
  queue.run();
  assert.deepEqual(fired, ["a", "b"]);
  now += 100;
  queue.run();
  assert.deepEqual(fired, ["a", "b", "c", "e"]);
  assert.equal(queue.size, 0);
  queue.run();
});

Deno.test("cancelled deadlines are dropped once they reach the top, so the heap stays small", () => {
  let now = 0;
  const queue = new DeadlineQueue({ now: () => now });
  // A call a millisecond, each with a 1000 ms deadline, each finished at once; one long call stays open.
  const open = queue.schedule(60_000, () => {});
  for (let i = 0; i < 5000; i++) {
    now += 1;
    queue.schedule(1000, () => assert.fail("a cancelled deadline fired")).cancel();
    if (i % 100 === 0) queue.run();
  }
  assert.ok(queue.size < 1200, `${queue.size} entries held for about 1000 live ones`);
  open.cancel();
  now += 60_000;
  queue.run();
  assert.equal(queue.size, 0);
});

Deno.test("the shared timer fires a deadline on time and is re-armed for an earlier one", async () => {
  const queue = new DeadlineQueue();
  const fired: string[] = [];
  queue.schedule(10_000, () => fired.push("late")).cancel();
  queue.schedule(5, () => fired.push("early"));
  await delay(60);
  assert.deepEqual(fired, ["early"]);
});

Deno.test("an idle queue holds nothing, and a deadline scheduled after it went idle still fires", async () => {
  const queue = new DeadlineQueue();
  const first = queue.schedule(60_000, () => assert.fail("cancelled"));
  assert.equal(queue.pending, 1);
  first.cancel();
  first.cancel();
  assert.equal(queue.pending, 0, "cancelling twice counts once");
  for (let i = 0; i < 100; i++) queue.schedule(1000, () => {}).cancel();
  assert.equal(queue.size, 0, "calls that each end before the next starts leave nothing behind");
  let fired = false;
  queue.schedule(5, () => fired = true);
  await delay(40);
  assert.ok(fired, "a deadline scheduled after the queue went idle still fires");
  assert.equal(queue.pending, 0);
});

Deno.test("a process whose deadlines were all cancelled exits at once; one with a pending deadline waits for it", async () => {
  const module = new URL("./deadlines.ts", import.meta.url).href;
  const run = async (code: string) => {
    const started = Date.now();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", `import { scheduleDeadline } from "${module}"; ${code}`],
      stdout: "null",
      stderr: "inherit",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await child.status;
    clearTimeout(timer);
    return Date.now() - started;
  };
  const idle = await run("scheduleDeadline(60_000, () => {}).cancel();");
  assert.ok(idle < 8000, `exited after ${idle} ms, not held open by a cancelled 60 s deadline`);
  const waiting = await run("scheduleDeadline(1500, () => {});");
  assert.ok(waiting >= 1500, `exited after ${waiting} ms, before its pending deadline`);
});

Deno.test("a deadline beyond setTimeout's range is armed in steps it can hold, and fires only when due", () => {
  // The platform timer, faked: it records each delay and runs its callback when the test says so.
  const armed: { ms: number; run: () => void }[] = [];
  const platform = { setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout };
  globalThis.setTimeout = ((run: () => void, ms: number) => {
    armed.push({ ms, run });
    return { ref() {}, unref() {} };
  }) as unknown as typeof setTimeout;
  globalThis.clearTimeout = (() => {}) as typeof clearTimeout;
  try {
    let now = 0;
    const queue = new DeadlineQueue({ now: () => now });
    let fired = 0;
    queue.schedule(MAX_TIMER_DELAY_MS + 10_000, () => fired++);
    assert.deepEqual(armed.map((timer) => timer.ms), [MAX_TIMER_DELAY_MS], "clamped to what setTimeout holds");
    // The clamped timer comes due before the deadline: nothing fires, the rest is armed.
    now += MAX_TIMER_DELAY_MS;
    armed[0].run();
    assert.equal(fired, 0, "not fired early");
    assert.deepEqual(armed.map((timer) => timer.ms), [MAX_TIMER_DELAY_MS, 10_000]);
    now += 10_000;
    armed[1].run();
    assert.equal(fired, 1);
    assert.equal(queue.pending, 0);
  } finally {
    Object.assign(globalThis, platform);
  }
});

Deno.test("a deadline ten digits of milliseconds away does not wake the process", async () => {
  let runs = 0;
  class Counting extends DeadlineQueue {
    override run() {
      runs += 1;
      super.run();
    }
  }
  const queue = new Counting();
  // Connect-Timeout-Ms allows 10 digits: a platform timer that long fires after 1 ms, again and again.
  const deadline = queue.schedule(9_999_999_999, () => assert.fail("fired 115 days early"));
  await delay(100);
  deadline.cancel();
  assert.equal(runs, 0, `the timer woke the process ${runs} times in 100 ms`);
});
