/**
 * `deno task bench [queue|checkout] [--write] [--seconds N] [--soak N] [--full-load-seconds N] [--log-level L]`: the
 * benchmarks, each against a floor measured in the same run (never part of
 * `deno task test`). Without a name it runs both. Prints a Markdown report;
 * `--write` also appends it, dated and with the machine, to bench/RESULTS.md.
 * `deno task bench checkout --store etcd [--seconds N] [--full-load-seconds N] [--rounds N] [--kills N]` runs the
 * checkout on the embedded store and on etcd side by side, and etcd's failover (bench/stores.ts).
 * `deno task bench checkout --replicas N [--seconds N] [--full-load-seconds N] [--rounds N]` runs the checkout on
 * etcd with one instance of each service and with N, HAProxy in front, side by side (bench/replicas.ts).
 * `deno task bench profile [--store etcd]` (bench/profile.ts) says where the CPU time goes.
 *
 * @module
 */
import { benchCheckout } from "./checkout.ts";
import { profileCheckout } from "./profile.ts";
import { benchQueue } from "./queue.ts";
import { machine } from "./report.ts";
import { benchReplicas } from "./replicas.ts";
import { benchStores } from "./stores.ts";

function option(name: string): number | undefined {
  const index = Deno.args.indexOf(`--${name}`);
  return index >= 0 ? Number(Deno.args[index + 1]) : undefined;
}

function textOption(name: string): string | undefined {
  const index = Deno.args.indexOf(`--${name}`);
  return index >= 0 ? Deno.args[index + 1] : undefined;
}

const store = textOption("store");
if (store !== undefined && store !== "etcd" && store !== "kv") throw new Error(`--store is etcd or kv, not ${store}`);
const logLevel = textOption("log-level") as "info" | "warn" | undefined;

async function benchmarks(): Promise<string> {
  const names = Deno.args.filter((arg) => arg === "queue" || arg === "checkout");
  const run = names.length > 0 ? names : ["queue", "checkout"];
  let report = `\n## ${new Date().toISOString().slice(0, 10)} — ${await machine()}\n`;
  const replicas = option("replicas");
  if (replicas !== undefined) {
    // Like the store comparison, a checkout benchmark that runs alone.
    return report + await benchReplicas({
      replicas,
      seconds: option("seconds"),
      fullLoadSeconds: option("full-load-seconds"),
      rounds: option("rounds"),
      logLevel,
    });
  }
  if (store === "etcd") {
    // The store comparison is a checkout benchmark: it runs alone.
    return report + await benchStores({
      seconds: option("seconds"),
      fullLoadSeconds: option("full-load-seconds"),
      rounds: option("rounds"),
      kills: option("kills"),
      logLevel,
    });
  }
  if (run.includes("queue")) report += await benchQueue();
  if (run.includes("checkout")) {
    report += await benchCheckout({
      seconds: option("seconds"),
      soak: option("soak"),
      fullLoadSeconds: option("full-load-seconds"),
      logLevel,
    });
  }
  return report;
}

if (import.meta.main && Deno.args[0] === "profile") {
  console.log(await profileCheckout({ seconds: option("seconds"), store }));
} else if (import.meta.main) {
  const report = await benchmarks();
  console.log(report);
  if (Deno.args.includes("--write")) {
    await Deno.writeTextFile(new URL("RESULTS.md", import.meta.url), report, { append: true });
  }
}
