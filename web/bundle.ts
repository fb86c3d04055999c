/**
 * Bundles the browser's code (`web/client.ts` and the islands it imports)
 * once, in memory, when the web app starts.
 *
 * @module
 */

/** Bundles `web/client.ts` for the browser; throws with the bundler's errors. */
export async function bundleClient(): Promise<string> {
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
  return new TextDecoder().decode(file.contents);
}
