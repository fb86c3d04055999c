/**
 * Bundles the browser's code (`web/client.ts` and the islands it hydrates)
 * once, in memory, when the web app starts, with Deno's own bundler.
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
