/**
 * Concurrent commits for the conformance suite (`./conformance_test.ts`):
 * increments by `sum`, increments by check-and-set, and claims of one key.
 * The suite runs them in-process against Deno KV, and as several processes
 * at once against etcd (`deno run conformance_worker.ts '<json>'`: each
 * prints `ready`, waits for a line on stdin, works, and prints its result as
 * JSON).
 *
 * @module
 */
import { commitWithRetry, RETRY } from "../kv.ts";
import { EtcdKv } from "./etcd/kv.ts";
import type { Kv } from "./types.ts";

/** What one worker does: `count` increments of `["counter"]`, or `count` claims of `["claim", i]`. */
export interface WorkerTask {
  /** `sum`: `sum(["counter"], 1n)`; `cas`: read, check, set value + 1; `claim`: `check(null)` then set. */
  mode: "sum" | "cas" | "claim";
  /** How many increments or claims. */
  count: number;
  /** This worker's name, written into the keys it claims. */
  name: string;
}

/** Runs `task` against `kv`; answers how many claims it won (0 for increments). */
export async function runWorker(kv: Kv, task: WorkerTask): Promise<number> {
  let won = 0;
  for (let i = 0; i < task.count; i++) {
    if (task.mode === "sum") {
      const result = await kv.atomic().sum(["counter"], 1n).commit();
      if (!result.ok) throw new Error("a commit with only a sum failed");
    } else if (task.mode === "cas") {
      await commitWithRetry(async () => {
        const entry = await kv.get<number>(["counter"]);
        const result = await kv.atomic().check(entry).set(["counter"], (entry.value ?? 0) + 1).commit();
        return result.ok ? true : RETRY;
      }, { attempts: 1000 });
    } else {
      const key = ["claim", i];
      const result = await kv.atomic().check({ key, versionstamp: null }).set(key, task.name).commit();
      if (result.ok) won++;
    }
  }
  return won;
}

if (import.meta.main) {
  const { endpoints, prefix, task } = JSON.parse(Deno.args[0]) as {
    endpoints: string[];
    prefix: string;
    task: WorkerTask;
  };
  using kv = new EtcdKv({ endpoints, prefix, timeoutMs: 10_000 });
  console.log("ready");
  // Start together: wait for the suite's go.
  await Deno.stdin.readable.getReader().read();
  console.log(JSON.stringify({ won: await runWorker(kv, task) }));
  Deno.exit(0);
}
