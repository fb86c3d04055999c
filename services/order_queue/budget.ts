/**
 * What one atomic commit may still hold: the queue builds its commits part by
 * part (an order, a book's stock) and asks the budget before adding each, so
 * that no commit exceeds the limits every backend accepts
 * (`MAX_COMMIT_CHECKS`, `MAX_COMMIT_MUTATIONS`) and a large batch is split
 * into commits that fit.
 *
 * @module
 */
import { MAX_COMMIT_CHECKS, MAX_COMMIT_MUTATIONS } from "@bookstore/lib/store";

/** What a part of a commit costs. A `sum` is both a check and a mutation (on etcd it compares, then writes). */
export interface CommitCost {
  /** Checks and sums. */
  checks: number;
  /** Sets, deletes and sums. */
  mutations: number;
}

/** The checks and mutations one commit has left. */
export class CommitBudget {
  #checks: number;
  #mutations: number;

  /** A commit that holds `fixed` whatever else it takes (the fence, its counters). */
  constructor(fixed: CommitCost) {
    this.#checks = MAX_COMMIT_CHECKS - fixed.checks;
    this.#mutations = MAX_COMMIT_MUTATIONS - fixed.mutations;
    if (this.#checks < 0 || this.#mutations < 0) throw new RangeError("a commit's fixed part exceeds the limits");
  }

  /** Takes `cost` from what is left and answers true, or answers false (taking nothing) when it does not fit. */
  take(cost: CommitCost): boolean {
    if (cost.checks > this.#checks || cost.mutations > this.#mutations) return false;
    this.#checks -= cost.checks;
    this.#mutations -= cost.mutations;
    return true;
  }
}
