import assert from "node:assert/strict";
import { originAliases } from "./origins.ts";

Deno.test("a loopback origin's aliases are the same scheme and port on localhost, 127.0.0.1 and [::1]", () => {
  const aliases = ["http://localhost:8000", "http://127.0.0.1:8000", "http://[::1]:8000"];
  assert.deepEqual(originAliases("http://localhost:8000"), aliases);
  assert.deepEqual(originAliases("http://127.0.0.1:8000/"), [aliases[1], aliases[0], aliases[2]]);
  assert.deepEqual(originAliases("http://[::1]:8000"), [aliases[2], aliases[0], aliases[1]]);
  assert.deepEqual(originAliases("https://localhost:8443"), [
    "https://localhost:8443",
    "https://127.0.0.1:8443",
    "https://[::1]:8443",
  ]);
  assert.deepEqual(originAliases("https://shop.example"), ["https://shop.example"], "no aliases off loopback");
  assert.deepEqual(originAliases("http://localhost.example:8000"), ["http://localhost.example:8000"]);
});
