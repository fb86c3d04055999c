import assert from "node:assert/strict";
import { generateManifest, ROOT } from "./manifest.ts";

Deno.test("the checked-in manifest lists every route and island (run `deno task manifest` if not)", async () => {
  const generated = await generateManifest(ROOT);
  assert.equal(await Deno.readTextFile(new URL("fresh.gen.ts", ROOT)), generated.server);
  assert.equal(await Deno.readTextFile(new URL("web/islands.gen.ts", ROOT)), generated.islands);
});

Deno.test("route files become identifiers the manifest can import", async () => {
  const { server } = await generateManifest(ROOT);
  assert.match(server, /import \* as \$routes_books__bookId_ from "\.\/routes\/books\/\[bookId\]\.tsx";/);
});
