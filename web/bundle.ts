/**
 * Bundles the browser's code (`web/client.ts` and the islands it hydrates)
 * once, in memory, when the web app starts, with Deno's own bundler.
 *
 * Deno fetches its bundler (esbuild, from the npm registry) the first time
 * anything is bundled on a machine, which can take a minute. Run this module
 * (`deno run -A web/bundle.ts`) to do that ahead of time, as `.ci/run` does
 * while it installs the dependencies, so the first start of the web app is
 * as fast as the next.
 *
 * @module
 */
import { sha256Hex } from "@bookstore/lib/digest";
import type { ClientBundle } from "./server.ts";

/** Bundles and minifies `web/client.ts` for the browser; throws with the bundler's errors. */
export async function bundleClient(): Promise<ClientBundle> {
  const result = await Deno.bundle({
    entrypoints: [new URL("./client.ts", import.meta.url).pathname],
    platform: "browser",
    minify: true,
    write: false,
  });
  const file = result.outputFiles?.[0];
  if (!result.success || !file) {
    throw new Error(`bundling the islands failed: ${result.errors.map((e) => e.text).join("; ")}`);
  }
  const code = new TextDecoder().decode(file.contents);
  return { code, hash: (await sha256Hex(code)).slice(0, 16) };
}

if (import.meta.main) {
  const started = performance.now();
  const { code, hash } = await bundleClient();
  console.log(
    `islands bundle ${hash}: ${Math.round(code.length / 1024)} KiB in ${Math.round(performance.now() - started)} ms`,
  );
}
