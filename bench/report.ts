/**
 * What every benchmark shares: statistics, the machine it ran on, and the
 * process figures read from `/proc` (CPU time and resident memory).
 *
 * @module
 */

/** The median of `values`. */
export function median(values: number[]): number {
  return percentile(values, 50);
}

/** The `p`-th percentile of `values` (nearest rank). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** The machine, as a heading says it. */
export async function machine(): Promise<string> {
  const cpu = (await Deno.readTextFile("/proc/cpuinfo").catch(() => "")).match(/model name\s*:\s*(.+)/)?.[1] ??
    "unknown CPU";
  const memory = Math.round(Deno.systemMemoryInfo().total / 2 ** 30);
  return `${cpu}, ${navigator.hardwareConcurrency} cores, ${memory} GiB, ${Deno.build.os}/${Deno.build.arch}, Deno ${Deno.version.deno}`;
}

const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used, from `/proc/<pid>/stat`. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // Fields after the command name (which may hold spaces) start after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** A process's memory in MiB. */
export interface Memory {
  /** Resident set size: every page it maps that is in memory, shared ones (the Deno binary's) included. */
  rss: number;
  /**
   * Proportional set size: the same, with each shared page divided among the
   * processes that map it, so that the figures of several processes add up
   * to the memory they occupy together.
   */
  pss: number;
}

/** Resident (RSS) and proportional (PSS) memory of a process, from `/proc/<pid>/smaps_rollup`. */
export async function memoryOf(pid: number): Promise<Memory> {
  const rollup = await Deno.readTextFile(`/proc/${pid}/smaps_rollup`);
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(rollup)?.[1] ?? "0") / 1024;
  return { rss: field("Rss"), pss: field("Pss") };
}

/** Rounds for a table: whole numbers above 10, one decimal below. */
export function fmt(value: number): string {
  return Number.isNaN(value) ? "—" : value >= 10 ? String(Math.round(value)) : value.toFixed(1);
}
