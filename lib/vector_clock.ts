/**
 * Vector clocks: a map from process (service) name to the number of events
 * that process has recorded. They order the checkout's validation events
 * causally across the three validation services.
 *
 * @module
 */
import { z } from "zod";

/** A vector clock as it travels on the wire: service name to counter. */
export const vectorClockSchema: z.ZodRecord<z.ZodString, z.ZodNumber> = z.record(
  z.string().min(1).max(64),
  z.number().int().min(0),
);

/** A vector clock. Absent entries count as zero. */
export type VectorClock = z.infer<typeof vectorClockSchema>;

/** How two clocks relate. */
export type ClockOrder = "before" | "after" | "equal" | "concurrent";

/** The element-wise maximum of two clocks (what a receiver knows after a message). */
export function merge(a: VectorClock, b: VectorClock): VectorClock {
  const out: VectorClock = { ...a };
  for (const [key, value] of Object.entries(b)) out[key] = Math.max(out[key] ?? 0, value);
  return out;
}

/** A copy of `clock` with `process`'s counter advanced by one (a local event). */
export function tick(clock: VectorClock, process: string): VectorClock {
  return { ...clock, [process]: (clock[process] ?? 0) + 1 };
}

/** Whether every entry of `a` is at most the matching entry of `b`. */
export function lessOrEqual(a: VectorClock, b: VectorClock): boolean {
  return Object.entries(a).every(([key, value]) => value <= (b[key] ?? 0));
}

/** The causal relation of `a` to `b`. */
export function compare(a: VectorClock, b: VectorClock): ClockOrder {
  const aLeB = lessOrEqual(a, b);
  const bLeA = lessOrEqual(b, a);
  if (aLeB && bLeA) return "equal";
  if (aLeB) return "before";
  if (bLeA) return "after";
  return "concurrent";
}

/** Whether `a` happened before `b` (a → b). */
export function happenedBefore(a: VectorClock, b: VectorClock): boolean {
  return compare(a, b) === "before";
}

/** Whether neither clock happened before the other (a ‖ b). */
export function isConcurrent(a: VectorClock, b: VectorClock): boolean {
  return compare(a, b) === "concurrent";
}

/** A clock with every listed process at zero. */
export function zeroClock(processes: readonly string[]): VectorClock {
  return Object.fromEntries(processes.map((p) => [p, 0]));
}
