/** A commit's budget: parts are taken while they fit the limits of every backend, and none beyond. */
import assert from "node:assert/strict";
import { MAX_COMMIT_CHECKS, MAX_COMMIT_MUTATIONS } from "@bookstore/lib/store";
import { CommitBudget } from "./budget.ts";

Deno.test("a budget takes parts until the next would exceed a limit, checks or mutations", () => {
  const budget = new CommitBudget({ checks: 4, mutations: 4 });
  let parts = 0;
  while (budget.take({ checks: 2, mutations: 1 })) parts += 1;
  assert.equal(parts, Math.floor((MAX_COMMIT_CHECKS - 4) / 2), "checks ran out first");
  assert.equal(budget.take({ checks: 0, mutations: MAX_COMMIT_MUTATIONS - 4 - parts }), true, "mutations left");
  assert.equal(budget.take({ checks: 0, mutations: 1 }), false, "and now none");
  assert.throws(() => new CommitBudget({ checks: MAX_COMMIT_CHECKS + 1, mutations: 0 }), RangeError);
});
