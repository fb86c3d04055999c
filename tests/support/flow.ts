/**
 * How long a flow of successes (approved checkouts, executed orders) stopped
 * under a fault: from the last success before each strike to the first after
 * it, and the longest pause while the fault lasted, beside the longest pause
 * before it, so that each figure can be read against the flow's usual rhythm.
 *
 * @module
 */

/** The moments a fault is measured from and to (ms on the clock of the successes' times). */
export interface FaultWindow {
  /** When the fault struck, once or more (a scenario may kill twice), in order. */
  strikes: number[];
  /** When the scenario declared it over (every process back, the flow going on). */
  over: number;
}

/** The flow around one strike, in ms from it. */
export interface StrikeGap {
  /** The last success at or before the strike (0 when nothing succeeded before it). */
  last: number;
  /** The first success after the strike; absent when nothing succeeded after it. */
  first?: number;
}

/** What {@linkcode flowPause} found; moments in ms from the first strike. */
export interface FlowPause {
  /** Around each strike, in ms from that strike. */
  gaps: StrikeGap[];
  /**
   * The longest pause between two successes that begins before the fault is
   * over and ends after the first strike (absent `to`: nothing succeeded
   * after the first strike).
   */
  longest: { from: number; to?: number };
  /** The longest pause between two successes before the first strike (0 with fewer than two). */
  usual: number;
  /** Successes after the first strike, up to the end of the fault. */
  during: number;
}

/** Measures the flow of `times` (success moments, any order) across `window`. */
export function flowPause(times: readonly number[], window: FaultWindow): FlowPause {
  const sorted = [...times].sort((a, b) => a - b);
  const gaps = window.strikes.map((strike): StrikeGap => {
    const last = sorted.findLast((t) => t <= strike);
    const first = sorted.find((t) => t > strike);
    return { last: last === undefined ? 0 : last - strike, ...(first !== undefined && { first: first - strike }) };
  });
  const [struck] = window.strikes;
  const shifted = sorted.map((t) => t - struck);
  const over = window.over - struck;
  const before = shifted.filter((t) => t <= 0);
  const after = shifted.filter((t) => t > 0);
  let usual = 0;
  for (let i = 1; i < before.length; i++) usual = Math.max(usual, before[i] - before[i - 1]);
  const during = after.filter((t) => t <= over).length;
  const edges = [gaps[0].last, ...after];
  let longest: FlowPause["longest"] = { from: edges[0], to: edges[1] };
  // Pauses that begin after the fault is over are the flow's own, not the fault's.
  for (let i = 1; i < edges.length - 1 && edges[i] <= over; i++) {
    if (edges[i + 1] - edges[i] > longest.to! - longest.from) longest = { from: edges[i], to: edges[i + 1] };
  }
  return { gaps, longest: longest.to === undefined ? { from: longest.from } : longest, usual, during };
}

/** One line saying how long `what` stopped flowing across the fault, for a scenario's output. */
export function describePause(what: string, flow: FlowPause): string {
  const at = (t: number) => `${t > 0 ? "+" : t < 0 ? "−" : "±"}${Math.abs(t)} ms`;
  const strikes = flow.gaps.map(({ last, first }) =>
    first === undefined ? `none after it (the last at ${at(last)})` : `${first - last} ms (${at(last)} to ${at(first)})`
  );
  const { from, to } = flow.longest;
  const longest = to === undefined ? "unended" : `${to - from} ms (${at(from)} to ${at(to)} from the first strike)`;
  return `${what}: from the last before ${flow.gaps.length > 1 ? "each strike" : "the strike"} to the first after it ` +
    `${strikes.join(", ")}; the longest pause while the fault lasted ${longest}; ${flow.during} during the fault; ` +
    `the longest pause before it ${flow.usual} ms`;
}
