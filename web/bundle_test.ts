import assert from "node:assert/strict";
import { bundleClient } from "./bundle.ts";

Deno.test("the islands' bundle builds and holds nothing a browser cannot load", async () => {
  const { code, hash } = await bundleClient();
  assert.match(hash, /^[0-9a-f]{16}$/);
  // A server-only import (node:crypto, Deno.*) slipping into an island would stop every island from hydrating.
  assert.doesNotMatch(code, /["'`]node:[a-z_]+["'`]/);
  assert.doesNotMatch(code, /\bDeno\.(serve|openKv|Command|readTextFile)\b/);
});
