/** Housekeeping against a store stub whose runs are slow: one run at a time, never overlapping. */
import assert from "node:assert/strict";
import { delay } from "@bookstore/lib/async";
import type { QueueStatus } from "@bookstore/lib/contracts";
import { createLogger } from "@bookstore/lib/log";
import { eventually } from "../../tests/support/wait.ts";
import { Housekeeping } from "./housekeeping.ts";

Deno.test("a housekeeping run slower than the interval never overlaps the next", async () => {
  let running = 0;
  let most = 0;
  let runs = 0;
  const status = { depth: 0 } as QueueStatus;
  const store = {
    async reclaim() {
      running += 1;
      most = Math.max(most, running);
      await delay(40); // a slow run: a large queue on a slow disk
      running -= 1;
      runs += 1;
      return 0;
    },
    status: () => Promise.resolve(status),
  };
  using housekeeping = new Housekeeping(store, { intervalMs: 2, log: createLogger("test", { write: () => {} }) });
  housekeeping.start();
  housekeeping.start(); // a second start adds no second timer
  await eventually(() => runs >= 3, { timeoutMs: 5000, message: "three runs" });
  assert.equal(most, 1, "one run at a time");
  assert.equal(housekeeping.lastStatus, status);
});
