/**
 * The reaper: a small process started with every network of hosts, in a
 * session of its own (so a Ctrl-C or a kill of the run's process group spares
 * it), that waits for the network's owner to go — however it went, SIGKILL
 * included — and then removes the network. Run as
 * `deno run --allow-run --allow-read --allow-write reaper.ts <owner pid>`.
 *
 * @module
 */
import { destroyNetwork, isAlive } from "./network.ts";

/** How often the reaper looks whether the owner still runs. */
export const REAP_POLL_MS = 200;

/**
 * Starts a reaper for the network owned by `owner` (this process by default)
 * and returns its pid; it outlives this process on purpose.
 */
export function startReaper(owner: number = Deno.pid): number {
  const child = new Deno.Command("setsid", {
    args: [
      Deno.execPath(),
      "run",
      "--allow-run",
      "--allow-read",
      "--allow-write",
      new URL(import.meta.url).pathname,
      String(owner),
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  child.unref();
  return child.pid;
}

if (import.meta.main) {
  const owner = Number(Deno.args[0]);
  if (!Number.isInteger(owner) || owner <= 1) throw new Error(`usage: reaper.ts <owner pid>, not ${Deno.args[0]}`);
  while (await isAlive(owner)) await new Promise((resolve) => setTimeout(resolve, REAP_POLL_MS));
  await destroyNetwork(owner);
}
