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

/** Resident memory of a process in MiB, from `/proc/<pid>/status`. */
export async function residentMiB(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kib = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? "0");
  return kib / 1024;
}

/** Rounds for a table: whole numbers above 10, one decimal below. */
export function fmt(value: number): string {
  return Number.isNaN(value) ? "—" : value >= 10 ? String(Math.round(value)) : value.toFixed(1);
}
