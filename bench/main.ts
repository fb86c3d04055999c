/**
 * `deno task bench [queue|checkout] [--write] [--seconds N] [--soak N] [--full-load-seconds N] [--log-level L]`: the
 * benchmarks, each against a floor measured in the same run (never part of
 * `deno task test`). Without a name it runs both. Prints a Markdown report;
 * `--write` also appends it, dated and with the machine, to bench/RESULTS.md.
 * `deno task bench profile` (bench/profile.ts) says where the CPU time goes.
 *
 * @module
 */
import { benchCheckout } from "./checkout.ts";
import { profileCheckout } from "./profile.ts";
import { benchQueue } from "./queue.ts";
import { machine } from "./report.ts";

function option(name: string): number | undefined {
  const index = Deno.args.indexOf(`--${name}`);
  return index >= 0 ? Number(Deno.args[index + 1]) : undefined;
}

function textOption(name: string): string | undefined {
  const index = Deno.args.indexOf(`--${name}`);
  return index >= 0 ? Deno.args[index + 1] : undefined;
}

if (import.meta.main && Deno.args[0] === "profile") {
  console.log(await profileCheckout({ seconds: option("seconds") }));
} else if (import.meta.main) {
  const names = Deno.args.filter((arg) => arg === "queue" || arg === "checkout");
  const run = names.length > 0 ? names : ["queue", "checkout"];
  let report = `\n## ${new Date().toISOString().slice(0, 10)} — ${await machine()}\n`;
  if (run.includes("queue")) report += await benchQueue();
  if (run.includes("checkout")) {
    report += await benchCheckout({
      seconds: option("seconds"),
      soak: option("soak"),
      fullLoadSeconds: option("full-load-seconds"),
      logLevel: textOption("log-level") as "info" | "warn" | undefined,
    });
  }
  console.log(report);
  if (Deno.args.includes("--write")) {
    await Deno.writeTextFile(new URL("RESULTS.md", import.meta.url), report, { append: true });
  }
}
