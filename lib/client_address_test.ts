import assert from "node:assert/strict";
import { clientAddress } from "./client_address.ts";

const forwardedFor = (value?: string) =>
  new Request("http://shop/", { headers: value === undefined ? {} : { "x-forwarded-for": value } });

Deno.test("a trusted proxy's X-Forwarded-For names the client: the entry it appended, the last", () => {
  const options = { peer: "127.0.0.2", trustedProxies: ["127.0.0.2"] };
  assert.equal(clientAddress(forwardedFor("127.0.0.7"), options), "127.0.0.7");
  // The client wrote the first entry itself, hoping to spend someone else's limit.
  assert.equal(clientAddress(forwardedFor("127.0.0.9, 127.0.0.7"), options), "127.0.0.7");
  assert.equal(clientAddress(forwardedFor("::1"), options), "::1");
});

Deno.test("anyone else's X-Forwarded-For is ignored: the peer is the client", () => {
  assert.equal(clientAddress(forwardedFor("127.0.0.7"), { peer: "127.0.0.3" }), "127.0.0.3");
  assert.equal(
    clientAddress(forwardedFor("127.0.0.7"), { peer: "127.0.0.3", trustedProxies: ["127.0.0.2"] }),
    "127.0.0.3",
  );
});

Deno.test("a trusted proxy without the header, or with something that is no address, counts as itself", () => {
  const options = { peer: "127.0.0.2", trustedProxies: ["127.0.0.2"] };
  assert.equal(clientAddress(forwardedFor(), options), "127.0.0.2");
  assert.equal(clientAddress(forwardedFor("127.0.0.7, unknown"), options), "127.0.0.2");
  assert.equal(clientAddress(forwardedFor("127.0.0.7,"), options), "127.0.0.2");
});
